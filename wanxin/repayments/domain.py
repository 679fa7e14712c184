"""Pure money math of repayments: borrower schedules, per-investor receivables, penalty
interest and aging, prepayment, XIRR, and the calculator's input parsing. No Django here
(import-linter enforces it).

Amounts are integer fen, rates are ``Decimal`` fractions (``Decimal("0.12")`` is 12% a
year); no float is ever involved. Calculations run in ``Decimal`` at high precision and are
rounded half up to the fen only at the points named in each docstring.

Conventions:

- The monthly rate is the annual rate / 12. A period's interest is
  ``round_half_up(opening principal × annual rate × months in the period / 12)``; the
  multiplication comes first and the division by 12 last, so an exact half fen is seen as
  exactly half a fen.
- Daily interest (prepayment) is ACT/360: ``annual rate × days / 360``.
- XIRR is ACT/365 from the earliest cash flow, as in spreadsheets.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import NamedTuple, TypeVar

from wanxin.core.money import allocate, format_fen, round_half_up

# -- repayment methods --------------------------------------------------------------------------

EQUAL_INSTALLMENT = "EQUAL_INSTALLMENT"  # 等额本息
EQUAL_PRINCIPAL = "EQUAL_PRINCIPAL"  # 等额本金
INTEREST_FIRST = "INTEREST_FIRST"  # 先息后本
BULLET = "BULLET"  # 一次性还本付息

METHODS: dict[str, tuple[str, str]] = {
    EQUAL_INSTALLMENT: ("Equal installment", "等额本息"),
    EQUAL_PRINCIPAL: ("Equal principal", "等额本金"),
    INTEREST_FIRST: ("Interest first, principal at the end", "先息后本"),
    BULLET: ("Principal and interest at the end", "一次性还本付息"),
}

MIN_AMOUNT = 1
MAX_AMOUNT = 10**12  # fen: ¥10,000,000,000.00
MAX_ANNUAL_RATE = Decimal("0.36")
MIN_MONTHS = 1
MAX_MONTHS = 360
RATE_DECIMAL_PLACES = 6  # rates are stored with six decimal places

MONTHS_PER_YEAR = 12
INTEREST_DAYS_PER_YEAR = 360  # ACT/360 for interest by the day
XIRR_DAYS_PER_YEAR = 365  # ACT/365 for XIRR

_PRECISION = 60  # decimal digits for intermediate results


class ScheduleError(ValueError):
    """Input a schedule cannot be built from; ``field`` names the offending input
    (``amount``, ``annualRate``, ``months``, ``method``, ``start``) and ``message`` says why."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- validation ----------------------------------------------------------------------------------


def check_amount(amount: object) -> int:
    """A loan amount: an ``int`` of fen (never a bool or float) from 1 to 10^12."""
    if type(amount) is not int:
        raise ScheduleError("The amount must be a whole number of fen.", field="amount")
    if amount < 0:
        raise ScheduleError("The amount must be positive.", field="amount")
    if amount < MIN_AMOUNT:
        raise ScheduleError("The amount must be more than zero.", field="amount")
    if amount > MAX_AMOUNT:
        raise ScheduleError(f"The amount must be at most {MAX_AMOUNT} fen ({format_fen(MAX_AMOUNT)}).",
                            field="amount")
    return amount


def _check_decimal(value: object, *, what: str, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ScheduleError(f"The {what} must be a Decimal (never a float).", field=field)
    value = Decimal(value)
    if not value.is_finite():
        raise ScheduleError(f"The {what} must be a finite number.", field=field)
    if value < 0:
        raise ScheduleError(f"The {what} must not be negative.", field=field)
    return value


def check_annual_rate(rate: object, *, field: str = "annualRate") -> Decimal:
    """An annual rate: a ``Decimal`` fraction from 0 to 0.36 inclusive."""
    value = _check_decimal(rate, what="annual rate", field=field)
    if value > MAX_ANNUAL_RATE:
        raise ScheduleError("The annual rate must be at most 0.36 (36%); give it as a fraction, "
                            "for example 0.12 for 12%.", field=field)
    return value


def check_months(months: object) -> int:
    """A term: an ``int`` number of months from 1 to 360."""
    if type(months) is not int or not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ScheduleError(f"The term must be a whole number of months from {MIN_MONTHS} to {MAX_MONTHS}.",
                            field="months")
    return months


def check_method(method: object) -> str:
    if method not in METHODS:
        raise ScheduleError(f"Unknown repayment method {method!r}: use one of {', '.join(METHODS)}.",
                            field="method")
    return str(method)


# -- parsing what a client typed (the calculator's query string) -----------------------------------

_DIGITS_RE = re.compile(r"[0-9]+", re.ASCII)
_RATE_RE = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,30})?", re.ASCII)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_amount(text: str | None) -> int:
    """An amount in fen as text (``"1000000"`` is ¥10,000.00): ASCII digits only."""
    value = (text or "").strip()
    if not value:
        raise ScheduleError("Give the amount in fen, for example amount=1000000 for ¥10,000.00.", field="amount")
    if value.startswith("-"):
        raise ScheduleError("The amount must be positive.", field="amount")
    body = value.removeprefix("+")
    if "." in body and _DIGITS_RE.fullmatch(body.replace(".", "", 1)):
        raise ScheduleError("The amount is in fen and must be a whole number, without a decimal point.",
                            field="amount")
    if not _DIGITS_RE.fullmatch(body):
        raise ScheduleError("The amount must be a whole number of fen, for example 1000000 for ¥10,000.00.",
                            field="amount")
    if len(body.lstrip("0")) > len(str(MAX_AMOUNT)):
        return check_amount(MAX_AMOUNT + 1)  # too large: the same message, no giant int
    return check_amount(int(body))


def parse_annual_rate(text: str | None) -> Decimal:
    """An annual rate as a decimal fraction (``"0.12"`` is 12%), at most six decimal places."""
    value = (text or "").strip()
    if not value:
        raise ScheduleError("Give the annual rate as a decimal fraction, for example annualRate=0.12 for 12%.",
                            field="annualRate")
    if value.startswith("-"):
        raise ScheduleError("The annual rate must not be negative.", field="annualRate")
    if not _RATE_RE.fullmatch(value):
        raise ScheduleError("The annual rate must be a decimal number such as 0.12 (for 12%).",
                            field="annualRate")
    rate = Decimal(value)
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_DECIMAL_PLACES)):
        raise ScheduleError(f"The annual rate can have at most {RATE_DECIMAL_PLACES} decimal places.",
                            field="annualRate")
    return check_annual_rate(rate)


def parse_months(text: str | None) -> int:
    value = (text or "").strip()
    if not _DIGITS_RE.fullmatch(value) or len(value) > 4:
        return check_months(None)
    return check_months(int(value))


def parse_method(text: str | None) -> str:
    value = (text or "").strip()
    if not value:
        raise ScheduleError(f"Give the repayment method: one of {', '.join(METHODS)}.", field="method")
    return check_method(value)


def parse_start(text: str | None) -> dt.date | None:
    """An optional first day of the loan, ``YYYY-MM-DD``."""
    value = (text or "").strip()
    if not value:
        return None
    message = "The start date must be a date like 2025-01-31."
    if not _DATE_RE.fullmatch(value):
        raise ScheduleError(message, field="start")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ScheduleError(message, field="start") from None


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


# -- investor receivables ---------------------------------------------------------------------------

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ReceivablePart:
    """One investor's share of one borrower period. ``amount = principal + interest``;
    ``remaining`` is the investor's principal still outstanding after this period."""

    number: int
    due: dt.date | None
    principal: int
    interest: int
    amount: int
    remaining: int


def investor_interest_pool(borrower_interest: int, investor_rate: Decimal, borrower_rate: Decimal) -> int:
    """What the investors together earn of a period's borrower interest:
    ``round_half_up(borrower_interest × investor_rate / borrower_rate)``. Never more than the
    borrower's interest when ``investor_rate ≤ borrower_rate`` (rounding is monotone)."""
    if borrower_rate == 0:
        return 0
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_half_up(Decimal(borrower_interest) * investor_rate / borrower_rate)


def investor_receivables(borrower_schedule: Sequence[Period], holdings: Mapping[K, int],
                         investor_rate: Decimal, borrower_rate: Decimal) -> dict[K, list[ReceivablePart]]:
    """Split every borrower period among the investors who hold the loan.

    ``holdings``: each investor's principal in fen (their tender amounts); they must add up to
    the schedule's principal. Ties in the largest-remainder splits go to the earlier key, so
    pass holdings in a stable order (for example by tender id).

    Principal: each period's borrower principal is split by ``allocate`` in proportion to
    each investor's principal *still outstanding* at the start of the period. The parts add
    up to the borrower's principal in every period; no part exceeds the investor's
    outstanding principal; and in the last period, when the borrower repays everything that
    remains, each investor's part is exactly their outstanding principal, so over the whole
    schedule each investor receives exactly their holding. (Allocating cumulative totals by
    the original holdings instead can make a period's part negative: largest remainder is
    not monotone in the total, the Alabama paradox.)

    Interest: the investors' pool for the period is the borrower's interest scaled by
    ``investor_rate / borrower_rate`` and rounded half up (``investor_interest_pool``), which
    is interest at the investor rate on the loan's outstanding principal for the period;
    the pool is split by ``allocate`` in proportion to each investor's outstanding principal
    at the start of the period. The platform's share, ``borrower interest − pool``, is
    therefore never negative. ``investor_rate`` above ``borrower_rate`` is refused."""
    if not borrower_schedule:
        raise ValueError("The borrower schedule is empty.")
    if not holdings:
        raise ValueError("There are no holdings to split the schedule among.")
    investor_rate = check_annual_rate(investor_rate, field="investorRate")
    borrower_rate = check_annual_rate(borrower_rate, field="borrowerRate")
    if investor_rate > borrower_rate:
        raise ValueError("The investor rate must not be above the borrower rate: the platform's share "
                         "would be negative.")
    for key, amount in holdings.items():
        if type(amount) is not int or amount <= 0:
            raise ValueError(f"The holding of {key!r} must be a positive whole number of fen.")
    for period in borrower_schedule:
        if min(period.principal, period.interest) < 0:
            raise ValueError(f"Period {period.number} has a negative part.")
    loan = sum(p.principal for p in borrower_schedule)
    if sum(holdings.values()) != loan:
        raise ValueError(f"The holdings add up to {sum(holdings.values())} fen but the schedule's principal "
                         f"is {loan} fen.")

    keys = list(holdings)
    outstanding = [holdings[k] for k in keys]
    result: dict[K, list[ReceivablePart]] = {k: [] for k in keys}
    for period in borrower_schedule:
        pool = investor_interest_pool(period.interest, investor_rate, borrower_rate)
        if sum(outstanding):
            principals = allocate(period.principal, outstanding)
            interests = allocate(pool, outstanding)
        elif period.principal or pool:  # pragma: no cover - holdings add up to the principal
            raise ValueError(f"Period {period.number} has money to split but nothing is outstanding.")
        else:
            principals = interests = [0] * len(keys)
        for i, key in enumerate(keys):
            outstanding[i] -= principals[i]
            result[key].append(ReceivablePart(number=period.number, due=period.due, principal=principals[i],
                                              interest=interests[i], amount=principals[i] + interests[i],
                                              remaining=outstanding[i]))
    return result


def platform_shares(borrower_schedule: Sequence[Period],
                    receivables: Mapping[K, Sequence[ReceivablePart]]) -> list[int]:
    """Per period: what the borrower pays minus what all investors receive (the platform's
    interest margin), in schedule order."""
    shares = []
    for index, period in enumerate(borrower_schedule):
        shares.append(period.payment - sum(parts[index].amount for parts in receivables.values()))
    return shares


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


# -- XIRR -----------------------------------------------------------------------------------------------

XIRR_PLACES = Decimal("1e-10")
_TOLERANCE = Decimal("1e-18")
_BRACKETS = tuple(Decimal(x) for x in ("-0.999999", "-0.99", "-0.9", "-0.5", "-0.2", "0", "0.1", "0.2",
                                         "0.5", "1", "2", "5", "10", "100", "1000", "100000"))


def xirr(cashflows: Sequence[tuple[dt.date, int]]) -> Decimal | None:
    """The annualised internal rate of return of dated cash flows (fen; money paid out
    negative, money received positive): the ``x`` with ``Σ amount / (1+x)^(days/365) = 0``,
    days counted from the earliest flow. Newton's method from 10%, with bisection over a
    fixed set of brackets when Newton fails. Rounded half up to 10 decimal places (0.1 is
    10% a year). None without both a negative and a positive flow, or when no root is found."""
    for when, amount in cashflows:
        if not isinstance(when, dt.date) or type(amount) is not int:
            raise ValueError("Cash flows are (date, whole fen) pairs.")
    if not cashflows:
        return None
    first = min(when for when, _ in cashflows)
    with localcontext() as ctx:
        ctx.prec = 40
        flows = [(Decimal((when - first).days) / XIRR_DAYS_PER_YEAR, Decimal(amount))
                 for when, amount in cashflows if amount]
        if not any(a > 0 for _, a in flows) or not any(a < 0 for _, a in flows):
            return None
        scale = sum(abs(a) for _, a in flows)
        root = _newton(flows, scale)
        if root is None:
            root = _bisect(flows)
        if root is None:
            return None
        return root.quantize(XIRR_PLACES, rounding=ROUND_HALF_UP)


def _npv(flows: list[tuple[Decimal, Decimal]], rate: Decimal) -> tuple[Decimal, Decimal]:
    """Net present value and its derivative at ``rate`` (> −1)."""
    log = (1 + rate).ln()
    value = derivative = Decimal(0)
    for t, amount in flows:
        discounted = amount * (-t * log).exp()
        value += discounted
        derivative -= t * discounted / (1 + rate)
    return value, derivative


def _newton(flows: list[tuple[Decimal, Decimal]], scale: Decimal) -> Decimal | None:
    rate = Decimal("0.1")
    try:
        for _ in range(100):
            value, derivative = _npv(flows, rate)
            if abs(value) <= _TOLERANCE * scale:
                return rate
            if derivative == 0:
                return None
            step = value / derivative
            rate -= step
            if rate <= -1 or rate > _BRACKETS[-1]:
                return None
            if abs(step) <= _TOLERANCE:
                return rate
    except (InvalidOperation, OverflowError, ArithmeticError):
        return None
    return None


def _bisect(flows: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    try:
        values = [(r, _npv(flows, r)[0]) for r in _BRACKETS]
        for (low, f_low), (high, f_high) in itertools.pairwise(values):
            if f_low == 0:
                return low
            if (f_low < 0) == (f_high < 0):
                continue
            for _ in range(300):
                mid = (low + high) / 2
                f_mid = _npv(flows, mid)[0]
                if f_mid == 0 or high - low <= _TOLERANCE:
                    return mid
                if (f_mid < 0) == (f_low < 0):
                    low, f_low = mid, f_mid
                else:
                    high = mid
            return (low + high) / 2
        if values[-1][1] == 0:
            return values[-1][0]
    except (InvalidOperation, OverflowError, ArithmeticError):
        return None
    return None
