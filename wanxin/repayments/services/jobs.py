"""The repayment jobs: automatic repayment (sharded, threaded), reminders, and the nightly
overdue marking and penalty accrual."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models.functions import Mod
from django.utils import timezone

from wanxin.core.errors import WanxinError
from wanxin.core.money import format_fen
from wanxin.lending import domain as lending_domain
from wanxin.notifications.services import sms_on_commit

from ..models import DUE, OVERDUE, ReceivablePlan, RepaymentPlan
from .repay import repay_start
from .transitions import UNPAID, grace_days, penalty_daily_rate

log = logging.getLogger("wanxin.repayments")


def auto_workers() -> int:
    return max(1, int(settings.REPAYMENT_AUTO_WORKERS))


def auto_shards() -> int:
    return max(1, int(settings.REPAYMENT_AUTO_SHARDS))


def auto_repay(*, today: dt.date | None = None, workers: int | None = None,
               shard: tuple[int, int] | None = None) -> dict[str, int]:
    """Repay every period due on or before ``today`` (and overdue ones) of borrowers who
    authorised REPAYMENT; one repayment each, skipping periods already in flight.

    One period per loan per run (the earliest). Different loans are repaid concurrently by
    up to ``workers`` threads (``REPAYMENT_AUTO_WORKERS``), each running the same
    ``repay_start`` as the borrower's own click (the conditional claim of the period keeps
    it to one repayment whatever runs beside it) and closing its database connections
    when done. Counts: ``started``; ``skipped`` (refused: balance, state, in flight …);
    ``errors`` (unexpected failures, logged with their traceback; the other loans go on).

    ``shard=(i, n)`` takes only the loans with ``project_id % n == i``: n processes (Celery
    tasks, see ``tasks.auto_repay``) each run one shard and together cover every loan once;
    a loan is always in the same shard, and the claim of its period keeps it to one
    repayment even if two runs overlap."""
    today = today or timezone.localdate()
    due = (RepaymentPlan.objects.filter(status__in=UNPAID, due_date__lte=today, repayment__isnull=True,
                                        project__status=lending_domain.REPAYING,
                                        borrower__depository_account__auth_list__contains=["REPAYMENT"])
           .order_by("project_id", "number").select_related("borrower", "project"))
    if shard is not None:
        index, count = shard
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count}")
        if count > 1:
            due = due.alias(shard_of=Mod("project_id", count)).filter(shard_of=index)
    seen: set[int] = set()
    batch = []
    for plan in list(due):
        if plan.project_id in seen:  # one period per loan per run: the earliest
            continue
        seen.add(plan.project_id)
        batch.append(plan)
    counts = {"started": 0, "skipped": 0, "errors": 0}
    workers = min(auto_workers() if workers is None else max(1, workers), len(batch))
    if workers <= 1:
        for plan in batch:
            counts[_auto_repay_one(plan)] += 1
        return counts
    lock = threading.Lock()
    todo = iter(batch)

    def work() -> None:
        try:
            while True:
                with lock:
                    plan = next(todo, None)
                if plan is None:
                    return
                outcome = _auto_repay_one(plan)
                with lock:
                    counts[outcome] += 1
        finally:
            connections.close_all()  # this thread's connections (or back to the pool)

    threads = [threading.Thread(target=work, name=f"auto-repay-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def _auto_repay_one(plan: RepaymentPlan) -> str:
    try:
        repay_start(borrower=plan.borrower, plan_id=plan.pk, auto=True, plan=plan)
    except WanxinError as exc:
        log.info("automatic repayment of period %s skipped: %s", plan.pk, exc.message)
        return "skipped"
    except Exception:
        log.exception("automatic repayment of period %s failed", plan.pk)
        return "errors"
    return "started"


def remind(*, today: dt.date | None = None) -> int:
    """SMS every borrower whose period falls due tomorrow, once per period."""
    today = today or timezone.localdate()
    sent = 0
    plans = (RepaymentPlan.objects.filter(status=DUE, due_date=today + dt.timedelta(days=1), reminded_on__isnull=True)
             .select_related("borrower", "project"))
    for plan in list(plans):
        with transaction.atomic():
            if not RepaymentPlan.objects.filter(pk=plan.pk, reminded_on__isnull=True).update(reminded_on=today):
                continue
            sms_on_commit(
                plan.borrower.mobile, "repayment_reminder",
                f"Loan {plan.project.project_no}: period {plan.number} of {format_fen(plan.principal + plan.interest)} "
                f"is due on {plan.due_date:%Y-%m-%d}. Keep the amount in your depository account.")
            sent += 1
    return sent


# -- the nightly job: overdue marking and penalty accrual, each row written once ---------------
#
# One UPDATE per table. The plans' UPDATE marks unpaid periods past due + grace days OVERDUE and
# sets every overdue period's penalty to date in the same row write: ``round_half_up((principal
# + interest) × daily rate × days since due)`` (PostgreSQL ROUND on a non-negative numeric rounds
# half up), exactly ``domain.penalty``. A period with a repayment in flight keeps the penalty it
# froze; a period whose penalty is already today's is not written again, so an hourly re-run
# writes nothing. The receivables of newly overdue periods follow in one more UPDATE. What it
# marks and accrues is counted by a read just before, in the same transaction (a repayment
# claiming a period between the two can make the count one off; nothing else).

_PLAN_TABLE = RepaymentPlan._meta.db_table
_PENALTY = "ROUND((principal + interest)::numeric * %(rate)s::numeric * (%(today)s::date - due_date))"
_CANDIDATES = (
    "(status = %(due)s AND due_date < %(cutoff)s::date) OR (status = %(overdue)s AND repayment_id IS NULL "
    f"AND due_date < %(today)s::date AND penalty <> {_PENALTY})"
)
# What the UPDATE will write, counted first in the same transaction (a read, no row written).
_COUNT = (
    f"SELECT count(*) FILTER (WHERE status = %(due)s), "  # noqa: S608 (constant table and expressions)
    f"count(*) FILTER (WHERE repayment_id IS NULL AND penalty <> {_PENALTY}) FROM {_PLAN_TABLE} WHERE {_CANDIDATES}"
)
_PLANS = (
    f"UPDATE {_PLAN_TABLE} SET status = %(overdue)s, "  # noqa: S608 (constant table and expressions)
    f"penalty = CASE WHEN repayment_id IS NULL THEN {_PENALTY} ELSE penalty END WHERE {_CANDIDATES}"
)
_RECEIVABLES = (
    f"UPDATE {ReceivablePlan._meta.db_table} r SET status = %s FROM {RepaymentPlan._meta.db_table} p "  # noqa: S608
    "WHERE r.plan_id = p.id AND r.status = %s AND p.status = %s"
)


def overdue_mark(*, today: dt.date | None = None) -> dict[str, int]:
    """Mark periods overdue and accrue penalties to ``today`` (default: today); returns how
    many periods became overdue and how many penalties changed."""
    today = today or timezone.localdate()
    params = {"overdue": OVERDUE, "due": DUE, "today": today, "cutoff": today - dt.timedelta(days=grace_days()),
              "rate": penalty_daily_rate()}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_COUNT, params)
        marked, accrued = cursor.fetchone()
        cursor.execute(_PLANS, params)
        cursor.execute(_RECEIVABLES, [OVERDUE, DUE, OVERDUE])
    return {"overdue": marked, "accrued": accrued}
