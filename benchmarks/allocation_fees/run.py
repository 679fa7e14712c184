"""The timed phases and the command line: see the package's docstring."""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.bank_loop import balances, bank_environment
from benchmarks.common import (
    RESULTS,
    StatementCounter,
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

from .checks import bank_check, mirror_check, phase_check, requests_by_status
from .cpu import BackendCpu, pgbench_own_cpu
from .seed import (
    BANK_DB,
    PGBENCH_DB,
    PLATFORM_DB,
    TARGETS,
    previous_trading_day,
    seed,
    trading_day_on_or_after,
)


def run_phase(name: str, *, ids: tuple[int, int], day: dt.date, workers: int, server: Any,
              profile: Path | None = None) -> dict[str, Any]:
    """Time ``fees_charge`` over the running allocations (the caller holds the others out
    with ``hold``), then check allocations ``ids``. With ``workers=1`` the job runs in this
    thread: its SQL statements are counted and, with ``profile``, its Python profiled."""
    from django.db import connection, connections

    from wanxin.allocation import domain, services

    before = balances("bank")
    now = dt.datetime.combine(day, dt.time(16), tzinfo=domain.BEIJING)
    with connection.cursor() as c:  # warm the connection so the job doesn't pay for opening it
        c.execute("SELECT 1")
    self_cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    bank_cpu0 = tree_cpu_seconds(server.pid)
    machine0 = cpu_busy_seconds()
    postgres = BackendCpu([PLATFORM_DB, BANK_DB]).start()
    stop, states = threading.Event(), {}

    def sample(db: str) -> None:
        states[db] = sample_backends(db, until=time.time() + 86400, every=0.1, stop=stop)

    samplers = [threading.Thread(target=sample, args=(db,), daemon=True) for db in (PLATFORM_DB, BANK_DB)]
    for thread in samplers:
        thread.start()
    statements = StatementCounter()
    t0 = time.perf_counter()
    profiler = cProfile.Profile() if profile and workers == 1 else None
    if workers == 1:
        with connection.execute_wrapper(statements):
            if profiler:
                profiler.enable()
            run = services.fees_charge(today=day, now=now, workers=1)
            if profiler:
                profiler.disable()
    else:
        run = services.fees_charge(today=day, now=now, workers=workers)
    seconds = time.perf_counter() - t0
    self_cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - self_cpu0
    bank_cpu = tree_cpu_seconds(server.pid) - bank_cpu0
    machine = cpu_busy_seconds() - machine0
    pg = postgres.stop()
    stop.set()
    for thread in samplers:
        thread.join()
    connections.close_all()
    if profiler and profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        profile.write_text(f"{name}: cProfile of fees_charge (this process only), by cumulative time\n{out.getvalue()}")
    check = phase_check(ids, day=day, before=before)
    n = max(check["allocations"], 1)
    row = {
        "name": name, "workers": workers, "job": run.counts(), "seconds": round(seconds, 2),
        "allocations": check["allocations"], "allocations_per_s": round(check["allocations"] / seconds, 1),
        "ms_per_allocation_wall": round(seconds / n * 1000, 2),
        **({"sql_statements_per_allocation": round((statements.statements - statements.savepoints) / n, 2),
            "savepoint_commands_per_allocation": round(statements.savepoints / n, 2),
            "sql_wall_share": round(statements.seconds / seconds, 3)} if statements.statements else {}),
        "platform_cpu_ms_per_allocation": round(self_cpu / n * 1000, 2),
        "bank_cpu_ms_per_allocation": round(bank_cpu / n * 1000, 2),
        "machine_cpu_ms_per_allocation": round(machine / n * 1000, 2),
        "postgresql_platform_cpu_ms_per_allocation": round(pg[PLATFORM_DB] / n * 1000, 2),
        "postgresql_bank_cpu_ms_per_allocation": round(pg[BANK_DB] / n * 1000, 2),
        "own_cpu_ms_per_allocation": round((self_cpu + bank_cpu + sum(pg.values())) / n * 1000, 2),
        "other_cpu_ms_per_allocation": round((machine - self_cpu - bank_cpu - sum(pg.values())) / n * 1000, 2),
        "machine_cpu_busy_share": round(machine / seconds / (os.cpu_count() or 1), 3),
        "platform_backend_states": states.get(PLATFORM_DB, {}),
        "bank_backend_states": states.get(BANK_DB, {}),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "check": check,
    }
    print(f"  {name:<26} {row['allocations']:>6} allocations in {seconds:7.1f} s = {row['allocations_per_s']:7.1f}/s"
          f"   cpu ms/allocation: platform {row['platform_cpu_ms_per_allocation']},"
          f" bank {row['bank_cpu_ms_per_allocation']}, PostgreSQL {row['postgresql_platform_cpu_ms_per_allocation']}"
          f" + {row['postgresql_bank_cpu_ms_per_allocation']}, machine {row['machine_cpu_ms_per_allocation']}"
          + (f", SQL statements/allocation {row['sql_statements_per_allocation']}"
             if "sql_statements_per_allocation" in row else "")
          + f"   {'OK' if check['ok'] else 'CHECK FAILED'}", flush=True)
    return row


def rerun_check(day: dt.date) -> dict[str, Any]:
    """The same day again over every allocation: nothing is charged twice."""
    from django.db import connections

    from wanxin.allocation import domain, services

    t0 = time.perf_counter()
    run = services.fees_charge(today=day, now=dt.datetime.combine(day, dt.time(16, 30), tzinfo=domain.BEIJING))
    connections.close_all()
    counts = {**run.counts(), "resent": run.resent}
    return {"seconds": round(time.perf_counter() - t0, 2), "job": counts, "ok": not any(counts.values())}


def hold(ids: tuple[int, int], *, running: bool) -> None:
    """Take allocations outside a phase out of the fee run meanwhile (CANCELLED is not
    RUNNING; the CHECKs allow it) and put them back after: a direct UPDATE on the seed, not
    a business move, recorded nowhere."""
    from django.db import connection

    lo, hi = ids
    with connection.cursor() as c:
        c.execute("UPDATE allocation_allocation SET status = %s WHERE id BETWEEN %s AND %s",
                  ["IN_PROGRESS" if running else "CANCELLED", lo, hi])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.allocation_fees", description=__doc__.split("\n\n")[0])
    parser.add_argument("--allocations", type=int, default=10_000, help="allocations charged by the concurrent run")
    parser.add_argument("--workers", type=int, default=8, help="fee run threads (ALLOCATION_FEE_WORKERS)")
    parser.add_argument("--batch", type=int, default=500,
                        help="allocations per chunk and items per bank BATCH (ALLOCATION_FEE_BATCH)")
    parser.add_argument("--sequential", type=int, default=1000,
                        help="allocations of the sequential (workers=1) sample phase; 0: skip")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the sequential phase into benchmarks/results/allocation_fees_profile.txt")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--bank-threads", type=int, default=8, help="gunicorn threads per bank worker")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--output", type=Path, default=RESULTS / "allocation_fees.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    configure_environment(PLATFORM_DB, BANK_DB)
    port = free_port()
    os.environ.update({"WANXIN_ROLE": "platform", "DATABASE_URL": pg_url(PLATFORM_DB),
                       "BANK_DATABASE_URL": pg_url(BANK_DB), "BANK_URL": f"http://127.0.0.1:{port}/bank",
                       "WANXIN_DB_POOL_SIZE": str(max(20, args.workers + 4)),
                       "ALLOCATION_FEE_BATCH": str(args.batch), "ALLOCATION_FEE_WORKERS": str(args.workers),
                       "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")})
    print(f"Wanxin allocation fee run: {args.allocations:,} DAILY allocations, {args.workers} workers, "
          f"BATCHes of {args.batch} "
          f"(+ {args.sequential:,} sequential), bank gunicorn on :{port}", flush=True)
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

    from wanxin.allocation import domain

    day = trading_day_on_or_after(timezone.now().astimezone(domain.BEIJING).date())
    start = previous_trading_day(day)
    total = args.allocations + args.sequential
    print("Migrating and seeding both databases…", flush=True)
    seeded = seed(total, start=start)
    seeded["day_charged"] = str(day)
    print(f"  {total:,} allocations in {seeded['seconds']} s", flush=True)
    seeded["mirrors"] = mirror_check()
    seeded["bank"] = bank_check()
    connections.close_all()
    if not (seeded["mirrors"]["ok"] and seeded["bank"]["ok"]):
        raise SystemExit(f"the seeded state is inconsistent: {seeded['mirrors']} {seeded['bank']}")
    print("  seeded state: mirrors OK; bank OK", flush=True)
    with connections["default"].cursor() as c:
        c.execute("SELECT min(id), max(id) FROM allocation_allocation")
        first, last = c.fetchone()
    sample = (first, first + args.sequential - 1)
    rest = (first + args.sequential, last)

    server = start_gunicorn(port, "wanxin.settings", threads=args.bank_threads, env=bank_environment(BANK_DB, port))
    rows = []
    try:
        if args.sequential:
            hold(rest, running=False)
            rows.append(run_phase("sequential (workers=1)", ids=sample, day=day, workers=1, server=server,
                                  profile=RESULTS / "allocation_fees_profile.txt" if args.profile else None))
            hold(rest, running=True)
            hold(sample, running=False)  # charged already; out of the way of the timed run's query
        rows.append(run_phase(f"concurrent (workers={args.workers})", ids=rest, day=day, workers=args.workers,
                              server=server))
        if args.sequential:
            hold(sample, running=True)
        rerun = rerun_check(day)
    finally:
        stop_server(server)

    pgbench_after = pgbench_reference(PGBENCH_DB, seconds=args.pgbench_seconds) if args.pgbench_seconds else {}
    print(f"  pgbench after: {pgbench_after.get('tps')} tps", flush=True)
    pgbench_cpu = pgbench_own_cpu(PGBENCH_DB, seconds=max(5, args.pgbench_seconds // 2)) if args.pgbench_seconds else {}
    print(f"  pgbench's own CPU: {pgbench_cpu.get('own_cpu_ms_per_tx')} ms/tx", flush=True)
    print("Checking…", flush=True)
    mirrors = mirror_check()
    requests = requests_by_status()
    bank = bank_check()
    connections.close_all()
    if not args.keep:
        drop_database(PLATFORM_DB)
        drop_database(BANK_DB)
    measured = [p["tps"] for p in (pgbench, pgbench_after) if p.get("tps")]
    tps = round(sum(measured) / len(measured), 1) if measured else None  # the mean of before and after
    for row in rows:
        row["ratio_to_pgbench"] = round(row["allocations_per_s"] / tps, 4) if tps else None
    main_row = rows[-1]
    ok = (all(r["check"]["ok"] for r in rows) and mirrors["ok"] and bank["ok"] and rerun["ok"]
          and not any(k.endswith(":PENDING") for k in requests))
    met = {issue: bool(tps) and main_row["allocations_per_s"] >= target * tps for issue, target in TARGETS.items()}
    print(f"pgbench TPC-B: {tps} tps (before {pgbench.get('tps')}, after {pgbench_after.get('tps')}); "
          f"{main_row['allocations_per_s']} allocations/s = {main_row['ratio_to_pgbench']} x; "
          + "; ".join(f"{issue} (>= {TARGETS[issue]} x): {'MET' if m else 'NOT MET'}" for issue, m in met.items()))
    print(f"re-run of the day: {rerun}")
    print(f"depository requests: {requests}")
    print(f"mirrors: {'OK' if mirrors['ok'] else mirrors}; bank: {bank} → {'OK' if ok else 'VIOLATED'}")
    result = {
        **result_head("allocation_fees", started=started, args=args, machine=machine),
        "postgresql": server_info,
        "pgbench": pgbench,
        "pgbench_after": pgbench_after,
        "pgbench_tps_used": tps,
        "pgbench_own_cpu": pgbench_cpu,
        # Both sides' own CPU only (the rest of the machine left out): what the ratio would be
        # if each had the cores to itself at the same cost per item.
        "own_cpu_ratio_estimate": round(pgbench_cpu["own_cpu_ms_per_tx"] / main_row["own_cpu_ms_per_allocation"], 3)
        if pgbench_cpu.get("own_cpu_ms_per_tx") and main_row.get("own_cpu_ms_per_allocation") else None,
        "bank_server": f"gunicorn gthread 2 workers x {args.bank_threads} threads, WANXIN_ROLE=bank",
        "seed": seeded,
        "phases": rows,
        "allocations_per_s": main_row["allocations_per_s"],
        "ratio_to_pgbench": main_row["ratio_to_pgbench"],
        "rerun_same_day": rerun,
        "depository_requests": requests,
        "mirrors": mirrors,
        "bank_invariants": bank,
        "targets": {issue: f"allocations/s >= {t} x pgbench TPC-B tps" for issue, t in TARGETS.items()},
        "targets_met": met,
        "loadavg": {"at_start": machine.get("loadavg_at_start"), "at_end": machine.get("loadavg_at_end")},
        "ok": ok,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"Wrote {args.output} in {result['runtime_s']:.0f} s total.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
