"""The quote a customer sees before confirming, and parsing of its query string."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from wanxin.core.money import MAX_AMOUNT_FEN

from .calendar_rules import Charge, TradingCalendar, end_date, fee_schedule
from .errors import RuleError, gettext_noop
from .rules import ProductTerms, allocated_for, check_choice, fee_per_charge, lines, risk_fund

_DIGITS_RE = re.compile(r"[0-9]{1,16}", re.ASCII)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@dataclass(frozen=True)
class Quote:
    start: dt.date
    deposit: int
    multiple: int
    duration: int
    allocated: int
    total_capital: int
    risk_fund: int
    warning_line: int
    liquidation_line: int
    fee: int
    fees: list[Charge]
    fee_total: int
    pay_now: int
    end: dt.date


def quote(terms: ProductTerms, *, deposit: int, multiple: int, duration: int, start: dt.date,
          calendar: TradingCalendar) -> Quote:
    """Everything before confirming. ``start`` moves to the first trading day on or after
    it; ``payNow = deposit + riskFund + fees[0]`` (the first fee is paid up front)."""
    check_choice(terms, deposit=deposit, multiple=multiple, duration=duration)
    start = calendar.on_or_after(start)
    allocated = allocated_for(deposit, multiple)
    fund = risk_fund(allocated, terms.risk_fund_rate)
    capital = lines(deposit=deposit, allocated=allocated, warning_pct=terms.warning_pct,
                    liquidation_pct=terms.liquidation_pct)
    fee = fee_per_charge(allocated, terms.rates[multiple])
    fees = fee_schedule(terms.type, start, duration, fee, calendar)
    return Quote(start=start, deposit=deposit, multiple=multiple, duration=duration, allocated=allocated,
                 total_capital=capital.total_capital, risk_fund=fund, warning_line=capital.warning_line,
                 liquidation_line=capital.liquidation_line, fee=fee, fees=fees,
                 fee_total=sum(c.amount for c in fees), pay_now=deposit + fund + fees[0].amount,
                 end=end_date(terms.type, start, duration, calendar))


def parse_whole(text: str | None, field: str, *, required: bool = True) -> int | None:
    """A whole number given as ASCII digits (fen for amounts)."""
    value = (text or "").strip()
    if not value:
        if not required:
            return None
        raise RuleError(gettext_noop("This is required."), field=field)
    if not _DIGITS_RE.fullmatch(value):
        raise RuleError(gettext_noop("Give a whole number (amounts in fen, e.g. 1000000 for ¥10,000.00)."),
                        field=field)
    number = int(value)
    if number > MAX_AMOUNT_FEN:
        raise RuleError(gettext_noop("The number is too large."), field=field)
    return number


def parse_date(text: str | None, field: str) -> dt.date | None:
    """An optional ``YYYY-MM-DD``."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        if not _DATE_RE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RuleError(gettext_noop("Give a date like 2026-01-31."), field=field) from None
