"""Repayment methods, limits, and the checks and parsing of what a client typed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from wanxin.core import money
from wanxin.core.money import format_fen

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
    try:
        return money.check_fen(amount, minimum=MIN_AMOUNT, maximum=MAX_AMOUNT)
    except money.AmountError as exc:
        raise _amount_error(exc) from exc


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
    try:
        return money.parse_fen(text, minimum=MIN_AMOUNT, maximum=MAX_AMOUNT)
    except money.AmountError as exc:
        raise _amount_error(exc) from exc


# The calculator API's own wording of ``wanxin.core.money``'s refusals (English, like its docs).
_AMOUNT_MESSAGES = {
    "required": "Give the amount in fen, for example amount=1000000 for ¥10,000.00.",
    "negative": "The amount must be positive.",
    "zero": "The amount must be more than zero.",
    "fraction": "The amount is in fen and must be a whole number, without a decimal point.",
    "too_large": f"The amount must be at most {MAX_AMOUNT} fen ({format_fen(MAX_AMOUNT)}).",
}


def _amount_error(exc: money.AmountError) -> ScheduleError:
    text = _AMOUNT_MESSAGES.get(exc.code, "The amount must be a whole number of fen, for example 1000000 for ¥10,000.00.")
    return ScheduleError(text, field="amount")


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


