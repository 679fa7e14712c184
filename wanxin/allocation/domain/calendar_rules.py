"""The trading calendar, when trading starts and ends, and the fee schedule.

- A trading day is a weekday that is not a configured holiday.
- Trading starts on the day of approval when approved on a trading day before 14:45
  Beijing time, otherwise on the next trading day.
- DAILY: ``duration`` trading days from the start; one fee on each, the first paid up
  front; the allocation ends after the close (15:00) of its last trading day.
- MONTHLY: fees on ``start + k months`` for k = 0 … months − 1, always counted from the
  original start (31 Jan → 28/29 Feb → 31 Mar: a day a month lacks becomes its last day);
  the allocation ends on ``start + months``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from wanxin.repayments.domain import ScheduleError, add_months

from .errors import RuleError, gettext_noop
from .rules import DAILY, MONTHLY

BEIJING = ZoneInfo("Asia/Shanghai")
APPROVAL_CUTOFF = dt.time(14, 45)  # approved later than this: trading starts the next trading day
MARKET_CLOSE = dt.time(15, 0)
MAX_CALENDAR_SPAN_DAYS = 366 * 2  # one calendar query covers at most two years


class TradingCalendar:
    """Weekdays minus ``holidays``."""

    def __init__(self, holidays: Iterable[dt.date] = ()) -> None:
        self.holidays = frozenset(holidays)

    def is_trading_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def on_or_after(self, day: dt.date) -> dt.date:
        """The first trading day on or after ``day`` (a holiday run is finite, so this ends)."""
        while not self.is_trading_day(day):
            day += dt.timedelta(days=1)
        return day

    def after(self, day: dt.date) -> dt.date:
        return self.on_or_after(day + dt.timedelta(days=1))

    def between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """Every trading day from ``first`` to ``last``, both included."""
        days, day = [], first
        while day <= last:
            if self.is_trading_day(day):
                days.append(day)
            day += dt.timedelta(days=1)
        return days

    def take(self, start: dt.date, count: int) -> list[dt.date]:
        """``count`` trading days from the first on or after ``start``."""
        days, day = [], self.on_or_after(start)
        for _ in range(count):
            days.append(day)
            day = self.after(day)
        return days


def check_span(first: dt.date, last: dt.date) -> None:
    if last < first:
        raise RuleError(gettext_noop("'to' must not be before 'from'."), field="to")
    if (last - first).days > MAX_CALENDAR_SPAN_DAYS:
        raise RuleError(gettext_noop("Ask for at most %(days)s days at a time."), field="to",
                        days=MAX_CALENDAR_SPAN_DAYS)


def trading_start(approved_at: dt.datetime, calendar: TradingCalendar) -> dt.date:
    """The first trading day of an allocation approved at ``approved_at`` (an aware time)."""
    if approved_at.tzinfo is None:
        raise ValueError("approved_at must be timezone-aware")
    local = approved_at.astimezone(BEIJING)
    day = local.date()
    if calendar.is_trading_day(day) and local.time() < APPROVAL_CUTOFF:
        return day
    return calendar.after(day)


def month_offset(start: dt.date, months: int) -> dt.date:
    """``start + months`` with month-end clamping, always from the original start."""
    try:
        return add_months(start, months)
    except ScheduleError:
        raise RuleError(gettext_noop("The start date is too far in the future."), field="start") from None


@dataclass(frozen=True)
class Charge:
    """One fee: the trading day or month it pays for (its date) and the amount in fen."""

    date: dt.date
    amount: int


def charge_dates(product_type: str, start: dt.date, duration: int, calendar: TradingCalendar) -> list[dt.date]:
    """The dates of every charge of the whole duration, in order; the first is ``start``
    (which, for DAILY, must be a trading day: the quote moves it there first)."""
    if product_type == DAILY:
        return calendar.take(start, duration)
    if product_type == MONTHLY:
        return [month_offset(start, k) for k in range(duration)]
    raise ValueError(f"unknown product type {product_type!r}")


def fee_schedule(product_type: str, start: dt.date, duration: int, fee: int,
                 calendar: TradingCalendar) -> list[Charge]:
    return [Charge(day, fee) for day in charge_dates(product_type, start, duration, calendar)]


def end_date(product_type: str, start: dt.date, duration: int, calendar: TradingCalendar) -> dt.date:
    """DAILY: its last trading day (it ends after that day's close); MONTHLY: start + months."""
    if product_type == DAILY:
        return calendar.take(start, duration)[-1]
    if product_type == MONTHLY:
        return month_offset(start, duration)
    raise ValueError(f"unknown product type {product_type!r}")


def ends_at(product_type: str, start: dt.date, duration: int, calendar: TradingCalendar) -> dt.datetime:
    """The moment it ends (Beijing time): the close of a DAILY's last trading day; the
    beginning of a MONTHLY's end date."""
    day = end_date(product_type, start, duration, calendar)
    at = MARKET_CLOSE if product_type == DAILY else dt.time(0, 0)
    return dt.datetime.combine(day, at, tzinfo=BEIJING)
