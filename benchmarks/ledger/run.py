"""The ledger benchmark's command line (``python -m benchmarks.ledger``): every phase in turn,
then the invariants and the results JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import ledger as package
from benchmarks.common import (
    PG_HOST,
    PG_PORT,
    RESULTS,
    ROOT,
    configure_environment,
    drop_database,
    free_port,
    machine_facts,
    recreate_databases,
    result_head,
    run_pgbench,
    server_facts,
    start_gunicorn,
    stop_server,
)

from .config import BANK_DB, PGBENCH_DB, PLATFORM_DB
from .report import load_note, measure, print_table
from .seed import (
    check_invariants,
    migrate_and_seed,
    pg_only_ceiling,
    python_floor,
    statement_counts,
)
from .workers import Workers


class _BatchOnly(Exception):
    """--batch-only: the other phases are skipped."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ledger", description=package.__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of each service-layer phase")
    parser.add_argument("--http-seconds", type=float, default=10, help="length of each HTTP phase")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=8, help="concurrent worker processes / HTTP clients")
    parser.add_argument("--customers-per-worker", type=int, default=8)
    parser.add_argument("--batch-processes", type=int, default=1,
                        help="processes of the batched ceiling phase (the workers are split among them as threads)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--batch-seconds", type=float, default=15, help="length of the BATCH phase")
    parser.add_argument("--batch-items", type=int, default=250, help="items per BATCH (freeze + post pairs; up to 1,000)")
    parser.add_argument("--batch-customers-per-sender", type=int, default=125,
                        help="customers each BATCH sender spreads its pairs over")
    parser.add_argument("--batch-only", action="store_true",
                        help="quick variant: pgbench, seed and the BATCH phase only")
    parser.add_argument("--skip-pooled", action="store_true",
                        help="skip the HTTP variant with pooled database connections")
    parser.add_argument("--profile", nargs="?", const="cpu", choices=["cpu", "wall"],
                        help="also run a freeze+post phase with worker 0 under cProfile, timing CPU "
                             "(default) or wall time; written next to the JSON as ledger_profile.txt")
    parser.add_argument("--output", type=Path, default=RESULTS / "ledger.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    configure_environment(PLATFORM_DB, BANK_DB)
    print(f"Wanxin ledger benchmark: {args.workers} workers, PostgreSQL {PG_HOST}:{PG_PORT}", flush=True)
    machine = machine_facts()
    server = server_facts()

    print("pgbench TPC-B…", flush=True)
    pgbench = run_pgbench(PGBENCH_DB, scale=8, clients=8, threads=2, seconds=args.pgbench_seconds)
    drop_database(PGBENCH_DB)
    print(f"  pgbench: {pgbench['tps']:.1f} tps", flush=True)

    print("Databases, migrations and seed…", flush=True)
    recreate_databases([PLATFORM_DB, BANK_DB])
    import django

    django.setup()
    from django.db import connections

    seed = migrate_and_seed(args.workers, args.customers_per_worker, args.batch_customers_per_sender)
    counts = statement_counts()
    floor = python_floor()
    print(f"Python floor per request (signatures, verify, validation): {floor['total']:.3f} ms CPU", flush=True)
    connections.close_all()
    pg_only = None
    if not args.batch_only:
        print("Ceiling prototype driven by pgbench (no Python):", flush=True)
        pg_only = pg_only_ceiling(args.pgbench_seconds)

    rows: list[dict[str, Any]] = []
    profile_text = None
    workers = Workers(args.workers)
    try:
        port = free_port()
        print(f"BATCH over HTTP via gunicorn gthread 2×8 (wanxin.settings) on :{port}, "
              f"{args.workers} senders × {args.batch_items} items:", flush=True)
        server_proc = start_gunicorn(port, "wanxin.settings")
        try:
            batch = {"seconds": args.batch_seconds, "per_worker": args.customers_per_worker,
                     "base_url": f"http://127.0.0.1:{port}", "server_pid": server_proc.pid,
                     "extra": {"batch_items": args.batch_items,
                               "batch_customers": args.batch_customers_per_sender}}
            rows.append(measure(workers, name="http_batch_freeze_post", kind="batch", mix="batch_freeze_post",
                                label="HTTP: BATCH items/s, freeze+post → PLATFORM_INCOME",
                                payees_for=lambda w: ["PLATFORM_INCOME"], **batch))
        finally:
            stop_server(server_proc)
        if args.batch_only:
            raise _BatchOnly
        print("Service layer (verify → execute_direct → sign), one process per worker:", flush=True)
        common = {"seconds": args.seconds, "per_worker": args.customers_per_worker}
        rows.append(measure(workers, name="svc_freeze_post_income", kind="service", mix="freeze_post",
                            label="service: freeze+post → PLATFORM_INCOME",
                            payees_for=lambda w: ["PLATFORM_INCOME"], **common))
        rows.append(measure(workers, name="svc_freeze_post_spread", kind="service", mix="freeze_post",
                            label="service: freeze+post → INCOME / CAPITAL (spread)",
                            payees_for=lambda w: ["PLATFORM_INCOME", "PLATFORM_CAPITAL"], **common))
        rows.append(measure(workers, name="svc_transfer", kind="service", mix="transfer",
                            label="service: transfers CAPITAL ⇄ customer",
                            payees_for=lambda w: ["PLATFORM_CAPITAL"], **common))
        rows.append(measure(workers, name="svc_freeze_only", kind="service", mix="freeze_only",
                            label="service: freezes only (no hot row; reference)",
                            payees_for=lambda w: ["PLATFORM_INCOME"], **common))
        rows.append(measure(workers, name="ceiling_freeze_one_call", kind="ceiling", mix="freeze_one_call",
                            label="ceiling: freezes, each one server-side function call",
                            payees_for=lambda w: ["PLATFORM_INCOME"], **common))
        processes = max(1, min(args.batch_processes, args.workers))
        threads = max(1, args.workers // processes)
        rows.append(measure(workers, name="ceiling_freeze_batched", kind="ceiling", mix="freeze_batched",
                            label=f"ceiling: freezes batched, {processes} processes × {threads} threads",
                            payees_for=lambda w: ["PLATFORM_INCOME"],
                            extra={"processes": processes, "threads": threads}, **common))
        if args.profile:
            prof = measure(workers, name="svc_profiled", kind="profile", mix="freeze_post",
                           label=f"service: freeze+post → INCOME, worker 0 profiled ({args.profile})",
                           payees_for=lambda w: ["PLATFORM_INCOME"], profile=args.profile, **common)
            profile_text = prof.pop("profile")
            rows.append(prof)
        if not args.skip_http:
            variants = [("wanxin.settings", "http", "")]
            if not args.skip_pooled:
                variants.append(("benchmarks.settings_pooled", "http_pooled", ", pooled connections"))
            for settings_module, kind, suffix in variants:
                port = free_port()
                print(f"HTTP via gunicorn gthread 2×8 ({settings_module}) on :{port}:", flush=True)
                server_proc = start_gunicorn(port, settings_module)
                try:
                    http = {"seconds": args.http_seconds, "per_worker": args.customers_per_worker,
                            "base_url": f"http://127.0.0.1:{port}"}
                    rows.append(measure(workers, name=f"{kind}_query_balance", kind=kind, mix="query_balance",
                                        label=f"HTTP: QUERY_BALANCE{suffix}",
                                        payees_for=lambda w: ["PLATFORM_INCOME"], **http))
                    rows.append(measure(workers, name=f"{kind}_transfer", kind=kind, mix="transfer",
                                        label=f"HTTP: transfers CAPITAL ⇄ customer{suffix}",
                                        payees_for=lambda w: ["PLATFORM_CAPITAL"], **http))
                finally:
                    stop_server(server_proc)
    except _BatchOnly:
        pass
    finally:
        workers.stop()

    for row in rows:
        row["ratio_to_pgbench"] = round(row["requests_per_s"] / pgbench["tps"], 4)
        if "pairs_per_s" in row:
            row["pairs_ratio_to_pgbench"] = round(row["pairs_per_s"] / pgbench["tps"], 4)

    batch_row = next(row for row in rows if row["name"] == "http_batch_freeze_post")
    print("Checking the ledger invariants…", flush=True)
    invariants = check_invariants()
    connections.close_all()
    print_table(rows, pgbench)
    print(f"invariants.total_balance() == {invariants['total_balance']}; "
          f"invariants.replay_mismatches() == {invariants['replay_mismatches']}; "
          f"negative customers: {invariants['negative_customers']}  "
          f"→ {'OK' if invariants['ok'] else 'VIOLATED'}")
    print(f"({invariants['requests_recorded']} requests, {invariants['transfers']} transfers, "
          f"{invariants['balance_changes']} balance changes recorded)")
    print("Statements per request, one process, no contention (round trips add BEGIN and COMMIT):")
    for mix, c in counts.items():
        print(f"  {mix:<14} {c['statements_per_request']:>5} statements, {c['ms_per_request']:.2f} ms/request, "
              f"{c['ms_in_statements_per_request']:.2f} ms of it in statements")

    result = {
        **result_head("ledger", started=started, args=args, machine=machine),
        "postgresql": server,
        "pgbench": pgbench,
        "seed": seed,
        "statement_counts": counts,
        "ceiling": {
            "what": "USER_PRE_TRANSACTION as one server-side function (benchmarks/sql/freeze_in_one_call.sql)",
            "python_floor_ms_per_request": floor,
            "postgresql_alone": pg_only,
        },
        "figures": rows,
        "ratios": {row["name"]: row["ratio_to_pgbench"] for row in rows},
        "batch_items_per_s": batch_row["requests_per_s"],
        "batch_ratio_to_pgbench": batch_row["ratio_to_pgbench"],
        "load_note": load_note(machine),
        "batch_target": "BATCH items/s (freezes and posts, 8 concurrent senders, signatures included, HTTP) "
                        ">= 1.5 x pgbench TPC-B tps",
        "invariants": invariants,
        "target": "ledger requests/s >= 1.0 x pgbench TPC-B tps",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if profile_text:
        (args.output.parent / "ledger_profile.txt").write_text(profile_text)
    print(f"Wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output} "
          f"in {result['runtime_s']:.0f} s total.")
    return 0 if invariants["ok"] else 1
