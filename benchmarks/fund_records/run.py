"""The fund-records benchmark's command line (``python -m benchmarks.fund_records``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import fund_records as package
from benchmarks.common import (
    PG_HOST,
    PG_PORT,
    RESULTS,
    ROOT,
    configure_environment,
    drop_database,
    free_port,
    machine_facts,
    pgbench_init,
    pgbench_measure,
    recreate_databases,
    result_head,
    server_facts,
    start_gunicorn,
    stop_server,
)

from .cases import cases, sql_plans
from .client import check_responses, run_case
from .seed import migrate_and_seed

PLATFORM_DB, BANK_DB = "wanxin_bench_funds", "wanxin_bench_funds_bank"
PGBENCH_DB = "wanxin_bench_funds_pgbench"
TARGET_P95_MS = 100.0


def machine_and_server_facts() -> dict[str, Any]:
    facts = machine_facts()
    server = server_facts()
    facts["postgresql"], facts["postgresql_settings"] = server["version"], server["settings"]
    return facts


def pgbench_reference(seconds: int) -> dict[str, Any]:
    """pgbench's select-only transaction (one indexed SELECT), one client: the machine's
    floor for one round trip to PostgreSQL, and 8 clients for the concurrent phase."""
    pgbench_init(PGBENCH_DB)
    try:
        return {f"select_only_c{clients}": pgbench_measure(PGBENCH_DB, clients=clients, threads=min(clients, 4),
                                                           seconds=seconds, select_only=True)
                for clients in (1, 8)}
    finally:
        drop_database(PGBENCH_DB)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fund_records", description=package.__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records of the measured customer")
    parser.add_argument("--other-rows", type=int, default=200_000, help="records of other customers")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--iterations", type=int, default=200, help="requests per page case")
    parser.add_argument("--csv-iterations", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8, help="clients of the concurrent phase (0: skip)")
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="0: skip the pgbench reference")
    parser.add_argument("--skip-pooled", action="store_true",
                        help="skip the variant with pooled database connections (benchmarks/settings_pooled.py)")
    parser.add_argument("--output", type=Path, default=RESULTS / "fund_records.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    configure_environment(PLATFORM_DB, BANK_DB)
    print(f"Wanxin fund-records benchmark: {args.records:,} records (+{args.other_rows:,} of others), "
          f"PostgreSQL {PG_HOST}:{PG_PORT}", flush=True)
    machine = machine_and_server_facts()
    reference = {}
    if args.pgbench_seconds:
        print("pgbench select-only reference…", flush=True)
        reference = pgbench_reference(args.pgbench_seconds)

    print("Databases, migrations and seed…", flush=True)
    recreate_databases([PLATFORM_DB, BANK_DB])
    import django

    django.setup()
    from django.db import connections

    seed = migrate_and_seed(args.records, args.other_rows, args.days)
    token = seed.pop("token")
    print(f"  {seed['table_rows']:,} rows ({seed['table_size_with_indexes']}) in {seed['seconds']} s", flush=True)
    case_map = cases(seed["user_id"])
    plans = sql_plans(seed["user_id"], case_map)
    connections.close_all()

    variants = [("wanxin.settings", "project settings (new connection per request)")]
    pooled = ROOT / "benchmarks" / "settings_pooled.py"
    if not args.skip_pooled and pooled.exists():
        variants.append(("benchmarks.settings_pooled", "psycopg pool"))
    figures: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    for settings_module, variant in variants:
        port = free_port()
        print(f"HTTP via gunicorn gthread 2×4 ({variant}) on :{port}:", flush=True)
        server = start_gunicorn(port, settings_module, threads=4)
        base = f"http://127.0.0.1:{port}"
        try:
            checks[settings_module] = check_responses(base, token, case_map)
            rows: dict[str, Any] = {}
            for name, case in case_map.items():
                is_csv = name == "csv_year"
                iterations = args.csv_iterations if is_csv else args.iterations
                row = run_case(base, token, case, iterations=iterations, warmup=2 if is_csv else 10)
                row["label"] = case["label"]
                rows[name] = row
                print(f"  {case['label']:<70} p50 {row['p50_ms']:>8.1f} ms  p95 {row['p95_ms']:>8.1f} ms  "
                      f"({row['n']} requests, {row['bytes_per_response']:,} bytes)", flush=True)
                if args.concurrency and not is_csv and name != "statistics_year":
                    crow = run_case(base, token, case, iterations=iterations * 2, warmup=5,
                                    clients=args.concurrency)
                    crow["label"] = f"{case['label']}, {args.concurrency} concurrent clients"
                    rows[f"{name}_concurrent"] = crow
                    print(f"  {'  … ' + str(args.concurrency) + ' concurrent clients':<70} p50 {crow['p50_ms']:>8.1f} ms  "
                          f"p95 {crow['p95_ms']:>8.1f} ms  ({crow['requests_per_s']} req/s)", flush=True)
            figures[settings_module] = {"variant": variant, "cases": rows}
        finally:
            stop_server(server)

    page_cases = ("first_page", "filtered_deep_page", "unfiltered_deep_page")
    main_rows = figures["wanxin.settings"]["cases"]
    target_met = all(main_rows[c]["p95_ms"] < TARGET_P95_MS for c in page_cases)
    print("SQL execution time of each page (EXPLAIN ANALYZE), keyset vs OFFSET at the same depth:")
    for name, plan in plans.items():
        extra = f", OFFSET would take {plan['offset_equivalent_ms']} ms" if "offset_equivalent_ms" in plan else ""
        print(f"  {name:<22} {plan['execution_ms']} ms{extra}")
    print(f"Target p95 < {TARGET_P95_MS:.0f} ms per page: {'met' if target_met else 'NOT met'}")

    result = {
        **result_head("fund_records", started=started, args=args, machine=machine),
        "pgbench_reference": reference,
        "seed": seed,
        "cases": {k: {kk: vv for kk, vv in v.items() if kk != "params"} for k, v in case_map.items()},
        "response_checks": checks,
        "figures": figures,
        "sql": plans,
        "target": f"p95 < {TARGET_P95_MS:.0f} ms for a page",
        "target_met": target_met,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"Wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output} "
          f"in {result['runtime_s']:.0f} s total.")
    return 0 if target_met else 1
