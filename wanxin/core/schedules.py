"""Loan schedules: the periods of a loan by repayment method (DESIGN §4 exactness). Pure, in
core because lending previews them before a loan exists and repayments plans from them."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from wanxin.core.money import allocate, round_half_up

from .loan_terms import (
    _PRECISION,
    BULLET,
    EQUAL_INSTALLMENT,
    EQUAL_PRINCIPAL,
    INTEREST_FIRST,
    MONTHS_PER_YEAR,
    ScheduleError,
    check_amount,
    check_annual_rate,
    check_method,
    check_months,
)

# -- dates -----------------------------------------------------------------------------------------


def add_months(start: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later, clamped to that month's last day
    (31 January + 1 month = 28/29 February; + 2 months = 31 March)."""
    index = start.month - 1 + months
    year, month = start.year + index // MONTHS_PER_YEAR, index % MONTHS_PER_YEAR + 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise ScheduleError("The start date is too far in the future for this term.", field="start")
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# -- borrower schedules --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One period of a repayment schedule. ``payment = principal + interest``; ``remaining`` is
    the principal still outstanding after this period; ``due`` is None without a start date."""

    number: int
    due: dt.date | None
    principal: int
    interest: int
    payment: int
    remaining: int


@dataclass(frozen=True)
class Totals:
    principal: int
    interest: int
    payment: int


def interest_for(principal: int, annual_rate: Decimal, months: int = 1) -> int:
    """Interest on ``principal`` fen for ``months`` months: ``principal × rate × months / 12``,
    rounded half up to the fen (the one rounding point of every period's interest)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_half_up(Decimal(principal) * annual_rate * months / MONTHS_PER_YEAR)


def annuity_payment(amount: int, annual_rate: Decimal, months: int) -> int:
    """The standard equal-installment payment ``P·r·(1+r)^n / ((1+r)^n − 1)`` with
    ``r = annual / 12`` (``P / n`` when the rate is 0), rounded half up to the fen."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if annual_rate == 0:
            return round_half_up(Decimal(amount) / months)
        r = annual_rate / MONTHS_PER_YEAR
        growth = (1 + r) ** months
        return round_half_up(Decimal(amount) * r * growth / (growth - 1))


def _amortises(amount: int, annual_rate: Decimal, months: int, payment: int) -> bool:
    """Whether paying ``payment`` in periods 1..n−1 leaves principal for the last period."""
    remaining = amount
    for _ in range(months - 1):
        remaining -= payment - interest_for(remaining, annual_rate)
        if remaining <= 0:
            return False
    return True


def equal_installment_payment(amount: int, annual_rate: Decimal, months: int) -> int:
    """The payment of every period but the last in an equal-installment schedule.

    It is ``annuity_payment`` — except for tiny amounts over long terms (for example ¥5 over
    360 months), where a payment rounded up would repay the whole loan before the last
    period; then it is the largest smaller payment that does not. That payment is never
    below the first period's interest, so no principal is ever negative."""
    standard = annuity_payment(amount, annual_rate, months)
    if _amortises(amount, annual_rate, months, standard):
        return standard
    # Paying exactly the first period's interest keeps the principal untouched until the
    # last period, so it always amortises; a larger payment leaves less (monotone): bisect.
    low, high = interest_for(amount, annual_rate), standard - 1
    while low < high:
        mid = (low + high + 1) // 2
        if _amortises(amount, annual_rate, months, mid):
            low = mid
        else:
            high = mid - 1
    return low


def _equal_installment(amount: int, rate: Decimal, months: int) -> list[tuple[int, int]]:
    payment = equal_installment_payment(amount, rate, months)
    rows: list[tuple[int, int]] = []
    remaining = amount
    for number in range(1, months + 1):
        interest = interest_for(remaining, rate)
        principal = remaining if number == months else payment - interest
        rows.append((principal, interest))
        remaining -= principal
    return rows


def _equal_principal(amount: int, rate: Decimal, months: int) -> list[tuple[int, int]]:
    rows: list[tuple[int, int]] = []
    remaining = amount
    for principal in allocate(amount, [1] * months):  # the extra fen go to the earliest periods
        rows.append((principal, interest_for(remaining, rate)))
        remaining -= principal
    return rows


def _interest_first(amount: int, rate: Decimal, months: int) -> list[tuple[int, int]]:
    interest = interest_for(amount, rate)
    return [(amount if number == months else 0, interest) for number in range(1, months + 1)]


def schedule(amount_fen: int, annual_rate: Decimal, months: int, method: str, *,
             start: dt.date | None = None) -> list[Period]:
    """The borrower's repayment schedule; principals always add up to ``amount_fen`` exactly.

    - ``EQUAL_INSTALLMENT`` (等额本息): every period but the last pays
      ``equal_installment_payment`` (the standard annuity payment rounded half up); each
      period's interest is ``interest_for(remaining)``, its principal the payment minus the
      interest; the last period's principal is whatever remains (the rounding residue), its
      payment that principal plus its interest.
    - ``EQUAL_PRINCIPAL`` (等额本金): the principal split into ``months`` parts by
      ``allocate`` (largest remainder, the extra fen in the earliest periods); interest on the
      remaining principal.
    - ``INTEREST_FIRST`` (先息后本): ``interest_for(amount)`` every month, all the principal
      in the last period.
    - ``BULLET`` (一次性还本付息): one period, due ``months`` after the start, with
      ``interest_for(amount, rate, months)``.

    ``start``: the loan's first day; period k is due on the same day of the month k months
    later (clamped to the month's end). Raises ``ScheduleError`` (a ``ValueError``) on
    amounts outside 1..10^12 fen, rates outside 0..0.36, terms outside 1..360 months and
    unknown methods."""
    amount = check_amount(amount_fen)
    rate = check_annual_rate(annual_rate)
    months = check_months(months)
    method = check_method(method)
    if start is not None:
        add_months(start, months)  # refuse a start whose last due date cannot exist
    if method == BULLET:
        rows, offsets = [(amount, interest_for(amount, rate, months))], [months]
    else:
        builder = {EQUAL_INSTALLMENT: _equal_installment, EQUAL_PRINCIPAL: _equal_principal,
                   INTEREST_FIRST: _interest_first}[method]
        rows, offsets = builder(amount, rate, months), list(range(1, months + 1))
    periods: list[Period] = []
    remaining = amount
    for number, ((principal, interest), offset) in enumerate(zip(rows, offsets, strict=True), start=1):
        remaining -= principal
        periods.append(Period(number=number, due=add_months(start, offset) if start else None,
                              principal=principal, interest=interest, payment=principal + interest,
                              remaining=remaining))
    assert remaining == 0, "a schedule's principals must add up to the loan"
    return periods


def totals(periods: Sequence[Period]) -> Totals:
    return Totals(principal=sum(p.principal for p in periods), interest=sum(p.interest for p in periods),
                  payment=sum(p.payment for p in periods))


