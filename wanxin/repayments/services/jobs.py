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


def overdue_mark(*, today: dt.date | None = None) -> dict[str, int]:
    """The nightly job, set-based: unpaid periods past due + grace days become OVERDUE (one
    UPDATE; their receivables follow in one more), then every overdue period's penalty is
    recomputed to date in one UPDATE: ``round_half_up((principal + interest) × daily rate ×
    days since due)`` (PostgreSQL ROUND on a non-negative numeric rounds half up), exactly
    ``domain.penalty``. A period with a repayment in flight keeps the penalty it froze."""
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=grace_days())
    plan_table, recv_table = RepaymentPlan._meta.db_table, ReceivablePlan._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {plan_table} SET status = %s WHERE status = %s AND due_date < %s",  # noqa: S608
                       [OVERDUE, DUE, cutoff])
        marked = cursor.rowcount
        cursor.execute(f"UPDATE {recv_table} r SET status = %s FROM {plan_table} p "  # noqa: S608
                       "WHERE r.plan_id = p.id AND r.status = %s AND p.status = %s", [OVERDUE, DUE, OVERDUE])
        cursor.execute(
            f"UPDATE {plan_table} SET penalty = ROUND((principal + interest)::numeric * %s::numeric "  # noqa: S608
            "* (%s::date - due_date)) WHERE status = %s AND repayment_id IS NULL AND due_date < %s::date "
            "AND penalty <> ROUND((principal + interest)::numeric * %s::numeric * (%s::date - due_date))",
            [penalty_daily_rate(), today, OVERDUE, today, penalty_daily_rate(), today])
        accrued = cursor.rowcount
    return {"overdue": marked, "accrued": accrued}
