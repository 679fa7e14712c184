"""Overdue days, penalty interest and aging; prepayment by the day (ACT/360)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from typing import NamedTuple

from wanxin.core.loan_terms import (
    _PRECISION,
    INTEREST_DAYS_PER_YEAR,
    _check_decimal,
    check_annual_rate,
)
from wanxin.core.money import round_half_up

# -- overdue ------------------------------------------------------------------------------------------

AGING_BUCKETS = ("1-30", "31-60", "61-90", "90+")


def overdue_days(due: dt.date, today: dt.date, grace_days: int = 0) -> int:
    """Days an unpaid period is overdue on ``today``: 0 on or before ``due + grace_days``
    (repaid within the grace days, no penalty); after that, counted from the due date
    itself, grace days included."""
    if type(grace_days) is not int or grace_days < 0:
        raise ValueError("Grace days must be a whole number, zero or more.")
    late = (today - due).days
    return late if late > grace_days else 0


def penalty(overdue_principal_and_interest_fen: int, daily_rate: Decimal, days: int) -> int:
    """Penalty interest to date: ``amount × daily_rate × days``, rounded half up once (simple
    interest, no compounding). A daily accrual job should recompute the total to date and
    book the difference from yesterday's total, never sum daily-rounded amounts."""
    amount = overdue_principal_and_interest_fen
    if type(amount) is not int or amount < 0:
        raise ValueError("The overdue amount must be a whole number of fen, zero or more.")
    if type(days) is not int or days < 0:
        raise ValueError("Days overdue must be a whole number, zero or more.")
    rate = _check_decimal(daily_rate, what="daily penalty rate", field="dailyRate")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_half_up(Decimal(amount) * rate * days)


def aging_bucket(days_overdue: int) -> str | None:
    """``"1-30"``, ``"31-60"``, ``"61-90"``, ``"90+"`` (91 days and more), or None when not overdue."""
    if days_overdue <= 0:
        return None
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


# -- prepayment ---------------------------------------------------------------------------------------


class Prepayment(NamedTuple):
    principal: int
    interest_to_date: int
    fee: int

    @property
    def total(self) -> int:
        return self.principal + self.interest_to_date + self.fee


def prepayment(remaining_principal: int, annual_rate: Decimal, days_since_last_due: int,
               fee_rate: Decimal) -> Prepayment:
    """Repaying the whole outstanding principal early: ``(principal, interest_to_date, fee)``.

    - principal: ``remaining_principal``;
    - interest to date: ``remaining × annual_rate × days / 360`` (ACT/360) since the last due
      date (or the loan's start), rounded half up;
    - fee: ``remaining × fee_rate``, rounded half up."""
    if type(remaining_principal) is not int or remaining_principal < 0:
        raise ValueError("The remaining principal must be a whole number of fen, zero or more.")
    if type(days_since_last_due) is not int or days_since_last_due < 0:
        raise ValueError("Days since the last due date must be a whole number, zero or more.")
    rate = check_annual_rate(annual_rate)
    fee = _check_decimal(fee_rate, what="prepayment fee rate", field="feeRate")
    if fee >= 1:
        raise ValueError("The prepayment fee rate must be below 1 (100%).")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        interest = round_half_up(Decimal(remaining_principal) * rate * days_since_last_due / INTEREST_DAYS_PER_YEAR)
        return Prepayment(principal=remaining_principal, interest_to_date=interest,
                          fee=round_half_up(Decimal(remaining_principal) * fee))


