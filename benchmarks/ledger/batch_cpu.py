"""CPU per item of a freeze+post BATCH, by process, one sender, in-process (no HTTP).

``python -m benchmarks.ledger.batch_cpu [--fresh] [--batches 6] [--items 1000]``

Load-independent where the ledger benchmark's items/s is not: on a machine shared with other
work, CPU seconds per item still say what one item costs each side (the run's wall time
does not). Sides: the sender (items, envelope, signature), the bank's Python (verify, then
``batch.execute_batch``, then the signed answer) and the bank's PostgreSQL backend (its
utime + stime from /proc while ``execute_batch`` runs, COMMIT included). ``--perf`` records
the backend with ``perf record -g`` to /tmp/ledger_batch_backend.perf.data. Uses databases
of its own (``--fresh`` recreates and seeds them; otherwise it migrates what is there).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ledger.batch_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", action="store_true", help="recreate, migrate and seed the databases")
    parser.add_argument("--batches", type=int, default=6, help="batches measured (after one warm-up batch)")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--perf", action="store_true")
    parser.add_argument("--database", default="wanxin_bench_batchcpu", help="the platform's; the bank's adds _bank")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    from benchmarks.common import configure_environment, migrate, recreate_databases

    databases = [args.database, args.database + "_bank"]
    configure_environment(*databases)
    if args.fresh:
        recreate_databases(databases)
    import django

    django.setup()
    from django.db import connections

    from benchmarks.ledger.caller import Caller, batch_freeze_post_items
    from benchmarks.ledger.config import batch_customer_no
    from benchmarks.ledger.seed import migrate_and_seed
    from wanxin.bank import batch, processing
    from wanxin.protocol import envelope, messages

    if args.fresh:
        migrate_and_seed(1, 1, 500)
    else:
        migrate()
    caller = Caller(0, f"cpu{int(time.time())}")
    caller.batch_items = args.items
    caller.batch_customers = [batch_customer_no(0, i) for i in range(500)]
    with connections["bank"].cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    perf = None
    if args.perf:
        perf = subprocess.Popen(["perf", "record", "-g", "-p", str(pid), "-o", "/tmp/ledger_batch_backend.perf.data"],
                                stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    totals = dict.fromkeys(("sender", "bank_verify", "bank_execute", "bank_sign", "postgresql_backend",
                            "wall_execute"), 0.0)
    for n in range(args.batches + 1):
        c0 = time.process_time()
        env = caller.envelope("BATCH", {"items": batch_freeze_post_items(caller, "", "PLATFORM_INCOME")})
        body = json.dumps(env).encode()
        c1 = time.process_time()
        v = processing.verify(envelope.parse_json(body), allowed=messages.DIRECT_SERVICES)
        c2, g0, w0 = time.process_time(), backend_cpu(pid), time.perf_counter()
        data = batch.execute_batch(v)
        c3, g1, w1 = time.process_time(), backend_cpu(pid), time.perf_counter()
        json.dumps(processing.sign(data))
        c4 = time.process_time()
        if {r["respCode"] for r in data["results"]} != {"00000"}:
            raise SystemExit(f"an item failed: {data['results'][:2]}")
        if n:  # the first batch warms caches and plans
            for key, value in (("sender", c1 - c0), ("bank_verify", c2 - c1), ("bank_execute", c3 - c2),
                               ("bank_sign", c4 - c3), ("postgresql_backend", g1 - g0), ("wall_execute", w1 - w0)):
                totals[key] += value
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    items = args.batches * args.items
    result = {"ms_per_item": {key: round(value / items * 1000, 4) for key, value in totals.items()},
              "items": items, "items_per_batch": args.items, "loadavg": list(os.getloadavg())}
    print(json.dumps(result))
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
