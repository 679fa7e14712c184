"""The repayment jobs: reminders, and the nightly overdue marking and penalty accrual
(automatic repayment is in ``auto``)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone

from wanxin.core.money import format_fen
from wanxin.notifications.services import sms_on_commit

from ..models import DUE, OVERDUE, ReceivablePlan, RepaymentPlan
from .transitions import grace_days, penalty_daily_rate

log = logging.getLogger("wanxin.repayments")


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
