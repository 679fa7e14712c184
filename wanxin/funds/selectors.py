"""Reads of the funds app: the customer's account, their pending bank requests, fund records
(filtered, keyset-paginated, exported) and statistics. Always scoped to one owner."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    Func,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, NullIf, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wanxin import inputs
from wanxin.core.bounds import MAX_DATE, MIN_DATE
from wanxin.core.errors import NotFound, WanxinError
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol.messages import GATEWAY_SERVICES

from .domain import EVENT_TYPE_BY_CODE, EVENT_TYPES
from .models import DepositoryAccount, FundRecord

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_RANGE_DAYS = 3660
_CURSOR_RE = re.compile(r"^(\d{1,19})_(\d{1,19})$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class BadFilter(WanxinError):
    """A filter or cursor in the query string cannot be used."""


# -- account and requests -----------------------------------------------------------------


def account_for(user) -> DepositoryAccount | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return DepositoryAccount.objects.filter(user=user).first()


def pending_requests(user, *, limit: int = 10) -> list[DepositoryRequest]:
    """Gateway requests of this customer still waiting for the bank (to continue them)."""
    if not user.user_no:
        return []
    return list(
        DepositoryRequest.objects.filter(user_no=user.user_no, status=DepositoryRequest.Status.PENDING,
                                         service_name__in=GATEWAY_SERVICES)
        .order_by("-created_at")[:limit]
    )


def owned_gateway_request(user, request_no: str) -> DepositoryRequest:
    """A gateway request of this customer, or 404 (another customer's looks the same as none)."""
    record = None
    if getattr(user, "user_no", None) and not getattr(user, "is_operator", False):
        record = DepositoryRequest.objects.filter(request_no=request_no, user_no=user.user_no,
                                                  service_name__in=GATEWAY_SERVICES).first()
    if record is None:
        raise NotFound(_("No such request."), code="not_found")
    return record


# -- fund records ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFilter:
    types: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive

    def as_query(self) -> dict[str, list[str] | str]:
        query: dict[str, list[str] | str] = {}
        if self.types:
            query["type"] = list(self.types)
        if self.date_from:
            query["date_from"] = self.date_from.isoformat()
        if self.date_to:
            query["date_to"] = self.date_to.isoformat()
        return query


def _local_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


# The filters as the pages label them (errors name the field the way the reader sees it).
_DATE_FIELDS = {"date_from": gettext_lazy("From"), "date_to": gettext_lazy("To")}


def _parse_date(value: str | None, name: str) -> dt.date | None:
    if not value or not value.strip():
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadFilter(_("“%(field)s” must be a date like 2025-01-31.") % {"field": _DATE_FIELDS[name]},
                        code=name) from exc
    try:
        return inputs.check_date(day, name)
    except WanxinError as exc:  # re-raised as the filter refusal the pages and API expect
        raise BadFilter(_("“%(field)s” must be between %(min)s and %(max)s.") % {
            "field": _DATE_FIELDS[name], "min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()},
            code=exc.code) from exc


def record_filter(*, types: list[str] | None = None, date_from: str | None = None,
                  date_to: str | None = None) -> RecordFilter:
    """Validate filters from a query string."""
    clean_types: list[str] = []
    for value in types or []:
        for code in str(value).split(","):
            code = code.strip().upper()
            if not code:
                continue
            if code not in EVENT_TYPE_BY_CODE:
                raise BadFilter(_("Unknown record type %(code)s; known: %(known)s.")
                                % {"code": repr(code), "known": ", ".join(t.code for t in EVENT_TYPES)},
                                code="type")
            if code not in clean_types:
                clean_types.append(code)
    start, end = _parse_date(date_from, "date_from"), _parse_date(date_to, "date_to")
    if start and end:
        if start > end:
            raise BadFilter(_("The start date is after the end date."), code="date_from")
        if (end - start).days > MAX_RANGE_DAYS:
            raise BadFilter(_("Choose a date range of at most ten years."), code="date_from")
    return RecordFilter(tuple(clean_types), start, end)


def _filtered(user, filters: RecordFilter):
    qs = FundRecord.objects.filter(user=user)
    if filters.types:
        qs = qs.filter(type=filters.types[0]) if len(filters.types) == 1 else qs.filter(type__in=filters.types)
    tz = _local_tz()
    if filters.date_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=tz))
    if filters.date_to:
        qs = qs.filter(created_at__lt=dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min,
                                                          tzinfo=tz))
    return qs


def encode_cursor(created_at: dt.datetime, pk: int) -> str:
    delta = created_at - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}_{pk}"


def decode_cursor(value: str) -> tuple[dt.datetime, int]:
    match = _CURSOR_RE.fullmatch(value or "")
    if match is None:
        raise BadFilter(_("This page link is not valid; start again from the first page."), code="cursor")
    try:
        return _EPOCH + dt.timedelta(microseconds=int(match.group(1))), int(match.group(2))
    except OverflowError as exc:
        raise BadFilter(_("This page link is not valid; start again from the first page."), code="cursor") from exc


@dataclass
class RecordPage:
    items: list[FundRecord]
    next_cursor: str | None  # older records
    prev_cursor: str | None  # newer records
    filters: RecordFilter = field(default_factory=RecordFilter)


def records_page(user, filters: RecordFilter, *, after: str | None = None, before: str | None = None,
                 limit: int = PAGE_SIZE) -> RecordPage:
    """Newest first. ``after`` (a cursor) gives the next, older page; ``before`` the newer one.

    Keyset pagination on (created_at, id), served by the (user, created_at, id) and
    (user, type, created_at, id) indexes: every page costs the same however deep."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadFilter(_("The page size must be 1 to %(max)d.") % {"max": MAX_PAGE_SIZE}, code="limit")
    if after and before:
        raise BadFilter(_("Use either after or before, not both."), code="cursor")
    qs = _filtered(user, filters)
    if before:
        at, pk = decode_cursor(before)
        # (created_at, id) > cursor; "created_at >= at" is the part the index can range over.
        rows = list(qs.filter(created_at__gte=at).exclude(created_at=at, id__lte=pk)
                    .order_by("created_at", "id")[: limit + 1])
        has_newer = len(rows) > limit
        items = rows[:limit][::-1]
        has_older = True
    else:
        if after:
            at, pk = decode_cursor(after)
            qs = qs.filter(created_at__lte=at).exclude(created_at=at, id__gte=pk)
        rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
        items = rows[:limit]
        has_older = len(rows) > limit
        has_newer = bool(after)
    next_cursor = encode_cursor(items[-1].created_at, items[-1].pk) if items and has_older else None
    prev_cursor = encode_cursor(items[0].created_at, items[0].pk) if items and has_newer else None
    if before and not items:
        next_cursor = before
    return RecordPage(items, next_cursor, prev_cursor, filters)


def record_get(user, record_id: int) -> FundRecord:
    record = FundRecord.objects.filter(user=user, pk=record_id).first()
    if record is None:
        raise NotFound(_("No such fund record."), code="not_found")
    return record


def export_query(user, filters: RecordFilter) -> tuple[str, tuple]:
    """The SELECT of the CSV export, newest first, with every column already formatted by
    PostgreSQL (local time with offset, yuan with two decimals, the Chinese type label, and
    remarks that start like a spreadsheet formula prefixed with a quote), so the export can
    stream it with COPY. Times are formatted in the session's TimeZone: set it first."""
    amount_yuan = [
        Cast(Cast(F(name), DecimalField(max_digits=20, decimal_places=2)) / Value(Decimal(100)),
             DecimalField(max_digits=20, decimal_places=2))
        for name in ("amount", "available_after", "frozen_after")
    ]
    qs = (
        _filtered(user, filters)
        .order_by("-created_at", "-id")
        .annotate(
            x_time=Func(F("created_at"), Value('YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'), function="to_char",
                        output_field=CharField()),
            x_type_zh=Case(*[When(type=t.code, then=Value(t.label_zh)) for t in EVENT_TYPES], default=Value(""),
                           output_field=CharField()),
            x_amount=amount_yuan[0], x_available=amount_yuan[1], x_frozen=amount_yuan[2],
            x_remark=Case(When(remark__regex=r"^[=+@\t\r-]", then=Concat(Value("'"), F("remark"))),
                          default=NullIf(F("remark"), Value("")), output_field=CharField()),
        )
        .values_list("x_time", "type", "x_type_zh", "x_amount", "x_available", "x_frozen", "request_no", "x_remark")
    )
    sql, params = qs.query.sql_with_params()
    return sql, params


# -- statistics ----------------------------------------------------------------------------


@dataclass
class TypeTotal:
    code: str
    label: str
    label_zh: str
    count: int
    total: int
    money_in: int
    money_out: int  # ≥ 0


@dataclass
class Statistics:
    totals: list[TypeTotal]
    months: list[tuple[str, int, int]]  # "2025-03", money in, money out (fen, both ≥ 0)
    money_in: int
    money_out: int
    filters: RecordFilter


def statistics(user, filters: RecordFilter, *, months: int = 12, today: dt.date | None = None) -> Statistics:
    """Totals by type over the filter, and money in/out per month for the chart (the
    filter's months, or the last ``months`` months when no dates are given).

    One grouped query by (Beijing month, type), an index-only scan of the customer's rows
    in the range on (user, created_at, id) INCLUDE (type, amount)."""
    rows = list(
        _filtered(user, filters)
        .annotate(month=TruncMonth("created_at", tzinfo=_local_tz()))
        .values("month", "type")
        .annotate(count=Count("id"), total=Sum("amount"), money_in=_sum_in(), money_out=_sum_out())
        .order_by()
    )
    by_type: dict[str, list[int]] = {}
    for row in rows:
        acc = by_type.setdefault(row["type"], [0, 0, 0, 0])
        acc[0] += int(row["count"])
        acc[1] += int(row["total"])
        acc[2] += int(row["money_in"])
        acc[3] -= int(row["money_out"])
    totals = [TypeTotal(t.code, t.label, t.label_zh, *by_type[t.code]) for t in EVENT_TYPES if t.code in by_type]

    today = today or timezone.localdate()
    last = filters.date_to or today
    first = filters.date_from or _add_months(last.replace(day=1), -(months - 1))
    first = max(first.replace(day=1), _add_months(last.replace(day=1), -35))  # at most 36 bars
    moving = {t.code for t in EVENT_TYPES if t.moves_money}
    found: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        if row["type"] in moving:
            month = found.setdefault((row["month"].year, row["month"].month), [0, 0])
            month[0] += int(row["money_in"])
            month[1] -= int(row["money_out"])
    series: list[tuple[str, int, int]] = []
    cursor = first.replace(day=1)
    while cursor <= last:
        money_in, money_out = found.get((cursor.year, cursor.month), (0, 0))
        series.append((f"{cursor.year}-{cursor.month:02d}", money_in, money_out))
        cursor = _add_months(cursor, 1)
    money_in = sum(t.money_in for t in totals if t.code in moving)
    money_out = sum(t.money_out for t in totals if t.code in moving)
    return Statistics(totals, series, money_in, money_out, filters)


def _sum_in() -> Sum:
    return Sum(Case(When(amount__gt=0, then="amount"), default=0, output_field=BigIntegerField()))


def _sum_out() -> Sum:
    return Sum(Case(When(amount__lt=0, then="amount"), default=0, output_field=BigIntegerField()))


def _add_months(day: dt.date, count: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)

