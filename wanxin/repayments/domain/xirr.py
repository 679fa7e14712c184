"""XIRR of dated cash flows (ACT/365 from the earliest flow, as in spreadsheets)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from wanxin.core.loan_terms import XIRR_DAYS_PER_YEAR

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
