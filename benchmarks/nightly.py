"""Nightly overdue marking + penalty accrual over N repaying loans × 12 periods.

    python -m benchmarks.nightly [--loans 100000] [--pgbench-seconds 10]

Drops and recreates wanxin_bench_nightly (+ _bank, migrated but unused), inserts one
borrower, then N applications, N REPAYING projects and N × 12 repayment-plan rows with SQL
generate_series (with today's date, periods 1–7 are past due + grace days, 8–12 are not), times
``wanxin.repayments.tasks.overdue_mark()`` and then, on a fresh copy of the same rows, one
set-based SQL UPDATE doing the same marking and penalty (the reference). No receivable
plans are seeded (no tenders), so the job's receivable UPDATE touches 0 rows. pgbench TPC-B
runs in the same run for reference. Writes benchmarks/results/nightly.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.common import (
    configure_environment,
    pgbench_reference,
    recreate_databases,
)

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_DB, BANK_DB, PGBENCH_DB = "wanxin_bench_nightly", "wanxin_bench_nightly_bank", "wanxin_bench_nightly_pgbench"
TARGET = 1.5


def seed(loans: int, today: dt.date) -> float:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from wanxin.lending.models import LoanProduct

    call_command("migrate", database="default", interactive=False, verbosity=0)
    call_command("migrate", database="bank", interactive=False, verbosity=0)
    started = time.monotonic()
    borrower = get_user_model().objects.create_user(username="nb", password=None, mobile="13900000001",
                                                    role="BOTH", user_no="NIGHTLYB")
    product = LoanProduct.objects.get(code="STANDARD")
    first_due = today - dt.timedelta(days=6 * 30 + 10)
    with connection.cursor() as c:
        c.execute("INSERT INTO lending_loanapplication (borrower_id, product_id, amount, months, method, purpose,"
                  " description, created_at) SELECT %s, %s, 1200000, 12, 'EQUAL_PRINCIPAL', 'bench', '', now()"
                  " FROM generate_series(1, %s)", [borrower.pk, product.pk, loans])
        c.execute(
            "INSERT INTO lending_project (application_id, borrower_id, project_no, name, description, amount, months,"
            " method, status, bank_status, borrower_rate, investor_rate, service_fee_rate, review_reason,"
            " create_request_no, bank_error, raised, frozen_amount, miscarry_reason, created_at, updated_at)"
            " SELECT a.id, a.borrower_id, 'NB' || a.id, 'bench', '', 1200000, 12, 'EQUAL_PRINCIPAL', 'REPAYING',"
            " '', 0.12, 0.10, 0.02, '', '', '', 1200000, 0, '', now(), now() FROM lending_loanapplication a")
        c.execute(
            "INSERT INTO repayments_repaymentplan (project_id, borrower_id, number, due_date, principal, interest,"
            " platform_share, penalty, status, paid_amount) SELECT p.id, p.borrower_id, n,"
            " %s::date + (n - 1) * 30, 100000, 12000 - (n - 1) * 1000, 2000 - (n - 1) * 100, 0, 'DUE', 0"
            " FROM lending_project p, generate_series(1, 12) n", [first_due])
        c.execute("CREATE TABLE bench_plan_copy (LIKE repayments_repaymentplan INCLUDING ALL)")  # same indexes
        c.execute("INSERT INTO bench_plan_copy SELECT * FROM repayments_repaymentplan")
        c.execute("VACUUM ANALYZE")
    return round(time.monotonic() - started, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nightly")
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="0: skip")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "nightly.json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    configure_environment(PLATFORM_DB, BANK_DB)
    pgbench = pgbench_reference(PGBENCH_DB, seconds=args.pgbench_seconds) if args.pgbench_seconds else {}
    print(f"pgbench: {pgbench.get('tps')}", flush=True)
    recreate_databases([PLATFORM_DB, BANK_DB])
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections
    from django.utils import timezone

    from wanxin.bank import invariants
    from wanxin.repayments import tasks

    today = timezone.localdate()
    seed_s = seed(args.loans, today)
    print(f"seeded {args.loans:,} loans × 12 periods in {seed_s} s", flush=True)

    with connection.cursor() as c:  # warm the connection so neither side pays for opening it
        c.execute("SELECT 1")
    load_before = list(os.getloadavg())
    t0 = time.perf_counter()
    job = tasks.overdue_mark()
    job_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    job2 = tasks.overdue_mark()
    rerun_s = time.perf_counter() - t0

    cutoff = today - dt.timedelta(days=settings.REPAYMENT_GRACE_DAYS)
    rate = str(settings.REPAYMENT_PENALTY_DAILY_RATE)
    with connection.cursor() as c:
        t0 = time.perf_counter()
        c.execute("UPDATE bench_plan_copy SET status = 'OVERDUE', penalty = ROUND((principal + interest)::numeric"
                  " * %s::numeric * (%s::date - due_date)) WHERE status = 'DUE' AND due_date < %s",
                  [rate, today, cutoff])
        sql_rows = c.rowcount
        sql_s = time.perf_counter() - t0
        c.execute("SELECT count(*), sum(penalty) FROM repayments_repaymentplan WHERE status = 'OVERDUE'")
        job_check = c.fetchone()
        c.execute("SELECT count(*), sum(penalty) FROM bench_plan_copy WHERE status = 'OVERDUE'")
        sql_check = c.fetchone()
    load_after = list(os.getloadavg())
    total = invariants.total_balance()
    connections.close_all()
    ratio = job_s / sql_s if sql_s else None
    elapsed = time.monotonic() - started
    rows = {"loans": args.loans, "plan_rows": args.loans * 12, "seed_s": seed_s, "job": job,
            "job_s": round(job_s, 3), "rerun": job2, "rerun_s": round(rerun_s, 3), "sql_update_rows": sql_rows,
            "sql_update_s": round(sql_s, 3), "ratio_job_to_sql": round(ratio, 2) if ratio else None,
            "same_result": list(job_check) == list(sql_check), "job_check": list(job_check),
            "sql_check": list(sql_check), "pgbench": pgbench, "bank_total_balance": total,
            "runtime_s": round(elapsed, 1), "target": f"job <= {TARGET}x SQL UPDATE",
            "loadavg_before": load_before, "loadavg_after": load_after,
            "note": "shared 2-core machine, other engineers' tests and benchmarks running: see loadavg"}
    print(f"overdue_mark: {job} in {job_s:.3f} s; rerun {job2} in {rerun_s:.3f} s")
    print(f"one SQL UPDATE: {sql_rows:,} rows in {sql_s:.3f} s; ratio {ratio:.2f}x (target <= {TARGET}x)")
    print(f"same result (count, sum penalty): {rows['same_result']} {job_check} vs {sql_check}")
    print(f"bank total_balance() = {total}; run time {elapsed:.0f} s")
    args.output.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    return 0 if ratio and ratio <= TARGET and total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
