"""Reconciliation of one business day: a statement of 1,000,000 rows against 1,000,000
platform request records, with 1,000 planted differences of each kind.

    python -m benchmarks.reconciliation [--rows 1000000] [--planted 1000] [--allocations 10000]

On the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) it drops and recreates
wanxin_bench_recon and wanxin_bench_recon_bank, migrates them and generates, in SQL (no row
passes through Python, so the process's peak memory is the reconciliation's own):
  - the bank's statement of yesterday (stored as the bank stores a closed day's statement);
  - the platform's request records: the statement's requests less ``--planted`` the platform
    never recorded, plus ``--planted`` successful ones the bank never saw; of the shared
    ones ``--planted`` with another amount and ``--planted`` still pending on the platform;
  - ``--allocations`` customers with a running allocation, both sides agreeing at the close,
    ``--planted`` of them with the allocation's risk-fund record lost
    (``benchmarks/reconciliation_allocations.py``; the allocations level must find exactly those).
It serves the bank with gunicorn (a separate service, as in production) and times
``reconciliation.services.day_reconcile`` end to end: both downloads over HTTP (signed
envelope), verification (base64, sha256, header, row count), COPY into a temporary table
with every row's shape checked, the matching joins, the differences recorded, the balances,
commit. Then the same two data sets, as CSV files, joined by DuckDB (read both CSVs, FULL
OUTER JOIN, the differences materialised) in the same run, as the reference.

Targets: at most 15 s, at most 2 × DuckDB's time, every planted difference found and
nothing else. Results: ``benchmarks/results/reconciliation.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    PG_HOST,
    PG_PORT,
    RESULTS,
    ROOT,
    configure_environment,
    free_port,
    machine_facts,
    recreate_databases,
    result_head,
    server_facts,
    start_gunicorn,
    stop_server,
    tree_cpu_seconds,
)
from benchmarks.reconciliation_allocations import generate as allocations_generate

PLATFORM_DB, BANK_DB = "wanxin_bench_recon", "wanxin_bench_recon_bank"
TARGET_SECONDS, TARGET_RATIO = 15.0, 2.0
ALLOCATION_KIND = "ALLOCATION_DIFFERS"
KINDS = ("MISSING_ON_PLATFORM", "MISSING_AT_BANK", "AMOUNT_DIFFERS", "STATUS_DIFFERS", ALLOCATION_KIND)

# Rows n = 1..rows are the statement; n = rows+1..rows+planted the platform's extra records.
#   n <= p            the bank only (missing on the platform)
#   p < n <= 2p       amount differs (the bank moved one fen more)
#   2p < n <= 3p      status differs (pending on the platform)
#   n > rows          the platform only (missing at the bank)
ROW = """
  SELECT n,
    CASE WHEN n <= %(p)s THEN 'RS' ELSE 'RB' END || lpad(n::text, 9, '0') AS request_no,
    (ARRAY['RECHARGE','RECHARGE','RECHARGE','USER_PRE_TRANSACTION','USER_PRE_TRANSACTION',
           'USER_PRE_TRANSACTION','CANCEL_PRE_TRANSACTION','WITHDRAW','RECHARGE','USER_PRE_TRANSACTION'])[n %% 10 + 1]
      AS service_name,
    (ARRAY['RECHARGE','RECHARGE','RECHARGE','TENDER','TENDER','TENDER','TENDER','WITHDRAW','RECHARGE',
           'TENDER'])[n %% 10 + 1] AS biz_type,
    'U' || lpad((n %% 20000)::text, 6, '0') AS user_no,
    CASE WHEN n %% 10 IN (3, 4, 5, 6, 9) THEN 'P' || (n %% 500) ELSE 'CARD' END AS counterparty,
    (n::bigint * 7919) %% 1000000 + 100 AS amount,
    %(start)s::timestamptz + n * interval '80 milliseconds' AS finished_at
  FROM generate_series(1, %(last)s) AS n
"""


def generate(rows: int, planted: int, day: dt.date) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connections

    from wanxin.fields import cipher
    from wanxin.reconciliation.services import day_bounds

    started = time.monotonic()
    start, _ = day_bounds(day)
    params = {"p": planted, "start": start, "last": rows + planted}
    with connections["bank"].cursor() as cur:
        cur.execute(f"CREATE UNLOGGED TABLE bench_statement AS SELECT * FROM ({ROW}) g WHERE n <= %(rows)s",
                    {**params, "rows": rows})
        cur.execute("SET TIME ZONE 'Asia/Shanghai'")
        cur.execute(
            "INSERT INTO bank_statement (platform_no, date, kind, content, sha256, rows, created_at) "
            "SELECT %(platform)s, %(day)s, 'TRANSACTIONS', c, encode(sha256(convert_to(c, 'UTF8')), 'hex'), %(rows)s, "
            "now() FROM (SELECT %(header)s || E'\\n' || string_agg(concat_ws(',', request_no, service_name, biz_type, "
            "user_no, counterparty, (amount + CASE WHEN n > %(p)s AND n <= 2 * %(p)s THEN 1 ELSE 0 END)::text, '0', "
            "'SUCCESS', to_char(finished_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') || '+08:00') || E'\\n', '' ORDER BY n) AS c "
            "FROM bench_statement) s",
            {"platform": settings.PLATFORM_NO, "day": day, "rows": rows, "p": planted,
             "header": "requestNo,serviceName,bizType,userNo,counterparty,amount,commission,status,finishedAt"},
        )
    payload = cipher().encrypt(json.dumps({"userNo": "U000000", "amount": 100, "commission": 0}))
    with connections["default"].cursor() as cur:
        cur.execute(
            "INSERT INTO depository_depositoryrequest (request_no, service_name, user_no, amount, payload, status, "
            " resp_code, resp_msg, applied_from, gateway_req_data, gateway_signature, attempts, owner_type, "
            " created_at, updated_at, finished_at) "
            "SELECT request_no, service_name, user_no, amount, %(payload)s, "
            " CASE WHEN n > 2 * %(p)s AND n <= 3 * %(p)s THEN 'PENDING' ELSE 'SUCCESS' END, "
            " CASE WHEN n > 2 * %(p)s AND n <= 3 * %(p)s THEN '' ELSE '00000' END, '', 'sync', '', '', 1, '', "
            " finished_at - interval '50 milliseconds', finished_at, "
            " CASE WHEN n > 2 * %(p)s AND n <= 3 * %(p)s THEN NULL ELSE finished_at END "
            f"FROM ({ROW}) g WHERE n > %(p)s",
            {**params, "payload": payload},
        )
        cur.execute("ANALYZE depository_depositoryrequest")
    return {"seconds": round(time.monotonic() - started, 1)}


def export_csv(directory: Path, day: dt.date) -> tuple[Path, Path]:
    """The same two data sets as CSV files for DuckDB: the bank's statement file exactly as
    downloaded, and the platform's records (request_no, service_name, amount, status)."""
    import base64

    from django.db import connections

    from wanxin.depository import services as depository

    statement, platform = directory / "statement.csv", directory / "platform.csv"
    answer = depository.statement_download(date=day.isoformat())
    statement.write_bytes(base64.b64decode(answer["file"]))
    del answer
    with connections["default"].cursor() as cur, platform.open("wb") as out:
        with cur.cursor.copy("COPY (SELECT request_no, service_name, amount, status, finished_at "
                             "FROM depository_depositoryrequest) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                out.write(chunk)
    return statement, platform


def duckdb_join(statement: Path, platform: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    con.execute(f"""
        CREATE TABLE differences AS SELECT * FROM (
          SELECT CASE WHEN p.request_no IS NULL THEN 'MISSING_ON_PLATFORM'
                      WHEN s.requestNo IS NULL THEN CASE WHEN p.status = 'SUCCESS' THEN 'MISSING_AT_BANK' END
                      WHEN p.status <> s.status THEN 'STATUS_DIFFERS'
                      WHEN p.amount <> s.amount THEN 'AMOUNT_DIFFERS' END AS kind,
                 coalesce(s.requestNo, p.request_no) AS request_no
          FROM read_csv('{statement}', header = true) s
          FULL OUTER JOIN read_csv('{platform}', header = true) p ON p.request_no = s.requestNo
        ) WHERE kind IS NOT NULL
    """)
    seconds = time.perf_counter() - started
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime
    counts = dict(con.execute("SELECT kind, count(*) FROM differences GROUP BY kind").fetchall())
    con.close()
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 2), "counts": counts, "threads": "DuckDB default (all cores)"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reconciliation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="statement rows (and platform records)")
    parser.add_argument("--planted", type=int, default=1_000, help="differences planted of each kind")
    parser.add_argument("--allocations", type=int, default=10_000,
                        help="customers with a running allocation (the allocations level; 0: none)")
    parser.add_argument("--output", type=Path, default=RESULTS / "reconciliation.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    configure_environment(PLATFORM_DB, BANK_DB)
    print(f"Wanxin reconciliation benchmark: {args.rows:,} rows, {args.planted:,} planted differences of each "
          f"kind, PostgreSQL {PG_HOST}:{PG_PORT}", flush=True)
    machine = machine_facts()
    server = server_facts()
    machine["postgresql"], machine["postgresql_settings"] = server["version"], server["settings"]
    recreate_databases([PLATFORM_DB, BANK_DB])
    port = free_port()
    import os

    os.environ["BANK_URL"] = f"http://127.0.0.1:{port}/bank"
    os.environ["BANK_HTTP_TIMEOUT"] = "120"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    call_command("migrate", database="default", interactive=False, verbosity=0)
    call_command("migrate", database="bank", interactive=False, verbosity=0)
    day = timezone.localdate() - dt.timedelta(days=1)
    print("Generating both data sets in SQL…", flush=True)
    seed = generate(args.rows, args.planted, day)
    lost_allocations: set[str] = set()
    if args.allocations:
        from wanxin.reconciliation.services import day_bounds

        t_alloc = time.monotonic()
        lost_allocations = allocations_generate(args.allocations, min(args.planted, args.allocations),
                                                day_bounds(day)[0])
        seed["allocations_seconds"] = round(time.monotonic() - t_alloc, 1)
    print(f"  {seed['seconds']} s (+ {seed.get('allocations_seconds', 0)} s for {args.allocations:,} allocations)",
          flush=True)
    connections.close_all()

    bank = start_gunicorn(port, "wanxin.settings", threads=2, workers=1, env={"WANXIN_ROLE": "all"})
    try:
        from wanxin.audit.guards import SYSTEM
        from wanxin.reconciliation import services
        from wanxin.reconciliation.models import Difference

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        timings: dict[str, float] = {}
        print("Reconciling…", flush=True)
        from django.db import connection

        with connection.cursor() as cur:  # the platform's own PostgreSQL backend does the COPY and joins
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
        usage0, bank_cpu0 = resource.getrusage(resource.RUSAGE_SELF), tree_cpu_seconds(bank.pid)
        backend_cpu0 = tree_cpu_seconds(backend)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        recon = services.day_reconcile(day=day, actor=SYSTEM, timings=timings)
        seconds = time.perf_counter() - t0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = {"platform_process_s": round(usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime, 2),
               "bank_server_s": round(tree_cpu_seconds(bank.pid) - bank_cpu0, 2),
               "platform_postgres_backend_s": round(tree_cpu_seconds(backend) - backend_cpu0, 2),
               "loadavg_1min_before_after": [load0, os.getloadavg()[0]]}
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {seconds:.2f} s, peak memory {peak_mb:.0f} MB", flush=True)

        found_rows = list(Difference.objects.filter(day=recon).values_list("kind", "request_no", "account"))
        planted = {
            "MISSING_ON_PLATFORM": {f"RS{n:09d}" for n in range(1, args.planted + 1)},
            "AMOUNT_DIFFERS": {f"RB{n:09d}" for n in range(args.planted + 1, 2 * args.planted + 1)},
            "STATUS_DIFFERS": {f"RB{n:09d}" for n in range(2 * args.planted + 1, 3 * args.planted + 1)},
            "MISSING_AT_BANK": {f"RB{n:09d}" for n in range(args.rows + 1, args.rows + args.planted + 1)},
        }
        planted[ALLOCATION_KIND] = lost_allocations  # by customer: the balance file has account totals only
        found = {kind: {no or account for k, no, account in found_rows if k == kind} for kind in KINDS}
        others = [r for r in found_rows if r[0] not in KINDS]
        exact = all(found[k] == planted[k] for k in KINDS) and not others

        print("DuckDB reference…", flush=True)
        with tempfile.TemporaryDirectory(prefix="wanxin-recon-") as tmp:
            statement_csv, platform_csv = export_csv(Path(tmp), day)
            duck = duckdb_join(statement_csv, platform_csv)
        print(f"  {duck['seconds']:.2f} s", flush=True)
    finally:
        stop_server(bank)
        connections.close_all()

    ratio = seconds / duck["seconds"] if duck["seconds"] else None
    result = {
        **result_head("reconciliation", started=started, args=args, machine=machine),
        "seconds": round(seconds, 3),
        "duckdb_seconds": duck["seconds"],
        "ratio_to_duckdb": round(ratio, 2) if ratio else None,
        "peak_memory_mb": round(peak_mb, 1),
        "memory_before_mb": round(rss_before, 1),
        "planted": {k: len(v) for k, v in planted.items()},
        "found": {k: len(v) for k, v in found.items()},
        "found_exactly_the_planted": exact,
        "found_other": len(others),
        "statement_rows": recon.statement_rows,
        "matched": recon.matched,
        "phases_seconds": timings,
        "cpu": cpu,
        "cpu_seconds_total": round(cpu["platform_process_s"] + cpu["bank_server_s"]
                                   + cpu["platform_postgres_backend_s"], 2),
        "duckdb_cpu_seconds": duck["cpu_seconds"],
        "duckdb": duck,
        "targets": {"seconds": TARGET_SECONDS, "ratio_to_duckdb": TARGET_RATIO},
        "met": {"seconds": seconds <= TARGET_SECONDS, "ratio_to_duckdb": bool(ratio and ratio <= TARGET_RATIO),
                "exact": exact},
        "seed": seed,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'phase':<50} seconds")
    for phase, value in timings.items():
        print(f"{phase:<50} {value:>7.3f}")
    print(f"{'end to end':<50} {seconds:>7.3f}\n{'DuckDB join of the two CSV files':<50} {duck['seconds']:>7.3f}")
    cpu_total = cpu["platform_process_s"] + cpu["bank_server_s"] + cpu["platform_postgres_backend_s"]
    print(f"CPU: platform process {cpu['platform_process_s']} s, bank server {cpu['bank_server_s']} s, platform "
          f"PostgreSQL backend {cpu['platform_postgres_backend_s']} s (total {cpu_total:.2f} s; DuckDB "
          f"{duck['cpu_seconds']} s); load {cpu['loadavg_1min_before_after']}")
    print(f"ratio {result['ratio_to_duckdb']}, peak memory {peak_mb:.0f} MB, exact: {exact}; wrote {args.output}")
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
