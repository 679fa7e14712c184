"""Every write of repayments, by sub-area: ``plans`` (built when a loan is disbursed),
``repay`` (a period, or a prepayment), ``releases`` (retrying a refused release), ``jobs``
(reminders, overdue marking and penalty accrual), ``auto`` (automatic repayment, set-based
through the depository outbox) and the
``transitions`` they share. What the bank's answers do is in ``repayments.results``; the
money path of one repayment is told there. The public names stay importable from here."""

from .auto import auto_repay, auto_shards, auto_workers
from .jobs import overdue_mark, remind
from .plans import plans_generate, plans_on_loan_disbursed
from .releases import release_retry
from .repay import prepay_quote, prepay_start, repay_start
from .transitions import (
    UNPAID,
    grace_days,
    penalty_daily_rate,
    plan_move_check,
    prepayment_fee_rate,
    repayment_move,
    repayment_release,
)

__all__ = [
    "UNPAID",
    "auto_repay",
    "auto_shards",
    "auto_workers",
    "grace_days",
    "overdue_mark",
    "penalty_daily_rate",
    "plan_move_check",
    "plans_generate",
    "plans_on_loan_disbursed",
    "prepay_quote",
    "prepay_start",
    "prepayment_fee_rate",
    "release_retry",
    "remind",
    "repay_start",
    "repayment_move",
    "repayment_release",
]
