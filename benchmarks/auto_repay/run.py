"""The timed phases and the command line of ``python -m benchmarks.auto_repay``."""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.bank_loop import balances, bank_environment, mirror_check
from benchmarks.common import (
    RESULTS,
    ROOT,
    StatementCounter,
    backend_cpu,
    backend_cpu_used,
    configure_environment,
    cpu_busy_seconds,
    drop_database,
    free_port,
    machine_facts,
    pg_url,
    pgbench_reference,
    recreate_databases,
    result_head,
    sample_backends,
    server_facts,
    start_gunicorn,
    stop_server,
    tree_cpu_seconds,
)

from .checks import bank_check, pending_requests, phase_check
from .config import BANK_DB, PGBENCH_DB, PLATFORM_DB, TARGET
from .seed import seed

# -- the timed phases -----------------------------------------------------------------------


SHARD_CHILD = """
import datetime as dt, json, resource, sys, time
import django
django.setup()
from django.db import connection
from wanxin.repayments import services
index, count, due, workers = int(sys.argv[1]), int(sys.argv[2]), dt.date.fromisoformat(sys.argv[3]), int(sys.argv[4])
with connection.cursor() as c:
    c.execute("SELECT 1")
print("ready", flush=True)
sys.stdin.readline()
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t0 = time.perf_counter()
counts = services.auto_repay(today=due, workers=workers, shard=(index, count))
print(json.dumps({"counts": counts, "seconds": time.perf_counter() - t0,
                  "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0}), flush=True)
"""


class ShardProcesses:
    """``processes`` platform processes, each running ``auto_repay(shard=(i, processes))``
    with ``workers`` threads: Django set up and connected before the clock starts, then
    released together (a line on stdin); each reports its counts and CPU seconds."""

    def __init__(self, processes: int, *, due: dt.date, workers: int) -> None:
        self.children = [subprocess.Popen([sys.executable, "-c", SHARD_CHILD, str(i), str(processes), due.isoformat(),
                                           str(workers)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          text=True) for i in range(processes)]
        for child in self.children:
            if child.stdout.readline().strip() != "ready":
                raise SystemExit("a shard process failed to start")

    def run(self) -> tuple[dict[str, int], float, list[dict[str, Any]]]:
        for child in self.children:
            child.stdin.write("go\n")
            child.stdin.flush()
        reports = []
        for child in self.children:
            out, _ = child.communicate()
            if child.returncode:
                raise SystemExit(f"a shard process failed ({child.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        counts: dict[str, int] = {}
        for report in reports:
            for key, value in report["counts"].items():
                counts[key] = counts.get(key, 0) + value
        return counts, sum(r["cpu"] for r in reports), reports


def run_phase(name: str, *, due: dt.date, workers: int, server: Any, profile: bool = False,
              processes: int = 1) -> dict[str, Any]:
    from django.db import connection, connections

    from wanxin.repayments import services

    before = balances("bank")
    shards = ShardProcesses(processes, due=due, workers=workers) if processes > 1 else None
    with connection.cursor() as c:  # warm the connection so the job doesn't pay for opening it
        c.execute("SELECT 1")
    self_cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    bank_cpu0 = tree_cpu_seconds(server.pid)
    machine0 = cpu_busy_seconds()
    backends0 = backend_cpu([PLATFORM_DB, BANK_DB])
    # What each database's backends are doing meanwhile (pg_stat_activity samples).
    stop, states = threading.Event(), {}

    def sample(db: str) -> None:
        states[db] = sample_backends(db, until=time.time() + 86400, every=0.1, stop=stop)

    samplers = [threading.Thread(target=sample, args=(db,), daemon=True) for db in (PLATFORM_DB, BANK_DB)]
    for thread in samplers:
        thread.start()
    profiler = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    children_cpu, reports = 0.0, []
    # One thread, one process: the whole flow runs on this thread's connection, so every SQL
    # statement (savepoints apart; BEGIN/COMMIT are not sent as statements) is counted.
    statements = StatementCounter()

    if shards:
        counts, children_cpu, reports = shards.run()
    elif workers == 1:
        with connection.execute_wrapper(statements):
            counts = services.auto_repay(today=due, workers=workers)
    else:
        counts = services.auto_repay(today=due, workers=workers)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - t0
    # The platform: this process (the job, or only the samplers when shard processes run it)
    # plus the shard processes.
    self_cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - self_cpu0 + children_cpu
    bank_cpu = tree_cpu_seconds(server.pid) - bank_cpu0
    machine = cpu_busy_seconds() - machine0
    backends = backend_cpu_used(backends0, backend_cpu([PLATFORM_DB, BANK_DB]))
    pg_platform, pg_bank = backends.get(PLATFORM_DB, 0.0), backends.get(BANK_DB, 0.0)
    stop.set()
    for thread in samplers:
        thread.join()
    connections.close_all()
    check = phase_check(None, due=due, before=before)
    n = max(check["periods"], 1)
    row = {
        "name": name, "processes": processes, "workers": workers, "job": counts,
        "shard_reports": [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in reports], "seconds": round(seconds, 2),
        "periods": check["periods"], "periods_per_s": round(check["repaid"] / seconds, 1),
        "ms_per_period_wall": round(seconds / n * 1000, 2),
        **({"sql_statements_per_period": round((statements.statements - statements.savepoints) / n, 2),
            "savepoint_commands_per_period": round(statements.savepoints / n, 2)} if statements.statements else {}),
        # CPU per period: this process (the platform: job threads, ORM, signing, httpx), the
        # bank's gunicorn workers, and the whole machine (+ PostgreSQL and anything else).
        "platform_cpu_ms_per_period": round(self_cpu / n * 1000, 2),
        "bank_cpu_ms_per_period": round(bank_cpu / n * 1000, 2),
        "machine_cpu_ms_per_period": round(machine / n * 1000, 2),
        # PostgreSQL's backends of each database (a lower bound: a backend that exits is lost).
        "postgresql_platform_cpu_ms_per_period": round(pg_platform / n * 1000, 2),
        "postgresql_bank_cpu_ms_per_period": round(pg_bank / n * 1000, 2),
        "own_cpu_ms_per_period": round((self_cpu + bank_cpu + pg_platform + pg_bank) / n * 1000, 2),
        "other_cpu_ms_per_period": round((machine - self_cpu - bank_cpu - pg_platform - pg_bank) / n * 1000, 2),
        "machine_cpu_busy_share": round(machine / seconds / (os.cpu_count() or 1), 3),
        "platform_backend_states": states.get(PLATFORM_DB, {}),
        "bank_backend_states": states.get(BANK_DB, {}),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "check": check,
    }
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        row["profile"] = out.getvalue()
    print(f"  {name:<34} {row['periods']:>6} periods in {seconds:7.1f} s = {row['periods_per_s']:7.1f}/s   "
          f"cpu ms/period: platform {row['platform_cpu_ms_per_period']}, bank {row['bank_cpu_ms_per_period']}, "
          f"postgresql {row['postgresql_platform_cpu_ms_per_period']} + {row['postgresql_bank_cpu_ms_per_period']}, "
          f"machine {row['machine_cpu_ms_per_period']}"
          + (f", SQL statements/period {row['sql_statements_per_period']}"
             f" (+ {row['savepoint_commands_per_period']} savepoint commands)"
             if "sql_statements_per_period" in row else "")
          + f"   {'OK' if check['ok'] else 'CHECK FAILED'}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.auto_repay", description="Automatic repayment of N due periods with the bank in the loop over real HTTP.")
    parser.add_argument("--periods", type=int, default=10_000, help="due periods repaid by the concurrent job")
    parser.add_argument("--workers", type=int, default=8,
                        help="auto_repay threads (per process) for the main phase")
    parser.add_argument("--processes", type=int, default=2,
                        help="platform processes of the main phase, each running one shard of the job "
                             "(auto_repay(shard=(i, n)), as REPAYMENT_AUTO_SHARDS fans out Celery tasks); "
                             "1: the job in this process")
    parser.add_argument("--sequential-periods", type=int, default=1000,
                        help="periods of the sequential (workers=1) sample phase; 0: skip")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=250,
                        help="loans started per transaction (REPAYMENT_AUTO_CHUNK)")
    parser.add_argument("--batch", type=int, default=250,
                        help="requests a sender claims per round (DEPOSITORY_OUTBOX_BATCH; at most 1,000 per BATCH)")
    parser.add_argument("--bank-threads", type=int, default=8, help="gunicorn threads per bank worker")
    parser.add_argument("--profile", action="store_true",
                        help="run the sequential phase under cProfile (the platform's side, in this process; "
                             "slower); written next to the JSON as auto_repay_profile.txt")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--output", type=Path, default=RESULTS / "auto_repay.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    configure_environment(PLATFORM_DB, BANK_DB)
    port = free_port()
    os.environ.update({"WANXIN_ROLE": "platform", "DATABASE_URL": pg_url(PLATFORM_DB),
                       "REPAYMENT_AUTO_CHUNK": str(args.chunk), "DEPOSITORY_OUTBOX_BATCH": str(args.batch),
                       "BANK_DATABASE_URL": pg_url(BANK_DB), "BANK_URL": f"http://127.0.0.1:{port}/bank",
                       "WANXIN_DB_POOL_SIZE": str(max(20, args.workers + 4)),
                       # Production caches in Redis (balances are invalidated on every money result).
                       "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")})
    print(f"Wanxin automatic repayment: {args.periods:,} periods, {args.processes} process(es) x "
          f"{args.workers} workers "
          f"(+ {args.sequential_periods:,} sequential), bank gunicorn on :{port}", flush=True)
    machine = machine_facts()
    server_info = server_facts()

    print("pgbench TPC-B…", flush=True)
    pgbench = pgbench_reference(PGBENCH_DB, seconds=args.pgbench_seconds) if args.pgbench_seconds else {}
    print(f"  pgbench: {pgbench.get('tps')} tps", flush=True)

    recreate_databases([PLATFORM_DB, BANK_DB])
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    today = timezone.localdate()
    print("Migrating and seeding both databases…", flush=True)
    seeded = seed(main=args.periods, sample=args.sequential_periods, today=today)
    print(f"  {seeded['loans']:,} loans, {seeded['investors']:,} investors in {seeded['seconds']} s", flush=True)
    seeded["mirrors"] = mirror_check()
    seeded["bank"] = bank_check()
    connections.close_all()
    print(f"  seeded state: mirrors {'OK' if seeded['mirrors']['ok'] else seeded['mirrors']}; bank "
          f"{'OK' if seeded['bank']['ok'] else seeded['bank']}", flush=True)
    if not (seeded["mirrors"]["ok"] and seeded["bank"]["ok"]):
        raise SystemExit("the seeded state is inconsistent")

    server = start_gunicorn(port, "wanxin.settings", threads=args.bank_threads, env=bank_environment(BANK_DB, port))
    rows = []
    try:
        if args.sequential_periods:
            rows.append(run_phase("sequential (workers=1)", due=today - dt.timedelta(days=1), workers=1,
                                  server=server, profile=args.profile))
        label = (f"concurrent ({args.processes} proc x {args.workers} thr)" if args.processes > 1
                 else f"concurrent (workers={args.workers})")
        rows.append(run_phase(label, due=today, workers=args.workers, server=server,
                              processes=args.processes))
    finally:
        stop_server(server)

    print("Checking…", flush=True)
    mirrors = mirror_check()
    requests = pending_requests()
    bank = bank_check()
    connections.close_all()
    if not args.keep:
        drop_database(PLATFORM_DB)
        drop_database(BANK_DB)
    tps = pgbench.get("tps")
    for row in rows:
        row["ratio_to_pgbench"] = round(row["periods_per_s"] / tps, 4) if tps else None
    main_row = rows[-1]
    ok = all(r["check"]["ok"] for r in rows) and mirrors["ok"] and bank["ok"] and not any(
        "PENDING" in k or "FAIL" in k for k in requests)
    met = bool(tps) and main_row["periods_per_s"] >= TARGET * tps

    print()
    print(f"{'phase':<34} {'periods':>8} {'seconds':>8} {'periods/s':>10} {'x pgbench':>10} "
          f"{'platform':>9} {'bank':>7} {'machine':>8}  (cpu ms/period)")
    for row in rows:
        print(f"{row['name']:<34} {row['periods']:>8} {row['seconds']:>8.1f} {row['periods_per_s']:>10.1f} "
              f"{row['ratio_to_pgbench'] or 0:>10.4f} {row['platform_cpu_ms_per_period']:>9.2f} "
              f"{row['bank_cpu_ms_per_period']:>7.2f} {row['machine_cpu_ms_per_period']:>8.2f}")
    print(f"pgbench TPC-B: {tps} tps; target {TARGET} x = {TARGET * tps if tps else '?'} periods/s → "
          f"{'MET' if met else 'NOT MET'}")
    print(f"depository requests: {requests}")
    print(f"mirrors: {'OK' if mirrors['ok'] else mirrors}; bank: total_balance {bank['total_balance']}, "
          f"replay_mismatches {bank['replay_mismatches']}, frozen freezes {bank['frozen_freezes']}, "
          f"notifications {bank['notifications']} → {'OK' if ok else 'VIOLATED'}")

    profile_text = rows[0].pop("profile", None)
    result = {
        **result_head("auto_repay", started=started, args=args, machine=machine),
        "postgresql": server_info,
        "pgbench": pgbench,
        "bank_server": f"gunicorn gthread 2 workers x {args.bank_threads} threads, WANXIN_ROLE=bank",
        "seed": seeded,
        "phases": rows,
        "depository_requests": requests,
        "mirrors": mirrors,
        "bank_invariants": bank,
        "target": f"periods/s >= {TARGET} x pgbench TPC-B tps",
        "target_met": met,
        "ok": ok,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    if profile_text:
        (args.output.parent / "auto_repay_profile.txt").write_text(profile_text)
    print(f"Wrote {args.output} in {result['runtime_s']:.0f} s total.")
    return 0 if ok else 1


