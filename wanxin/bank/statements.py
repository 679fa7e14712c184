"""Daily statements (PROTOCOL §6): per platform and business day one immutable CSV of the
requests that moved money and, beside it (version 1.1), the balance file: every account of
the platform at the day's close, derived from the balance history (each ``BalanceChange``
row carries the balance after it), so any past day can be written, not only today's."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connections, transaction

from .models import Account, BankRequest, Statement

DB = "bank"
BALANCE_HEADER = ["userNo", "available", "frozen", "asOf"]
HEADER = ["requestNo", "serviceName", "bizType", "userNo", "counterparty", "amount", "commission", "status",
          "finishedAt"]


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def render(platform_no: str, day: dt.date) -> tuple[str, int]:
    start, end = _day_bounds(day)
    rows = (
        BankRequest.objects.using(DB)
        .filter(platform_no=platform_no, moved_money=True, status="SUCCESS",
                finished_at__gte=start, finished_at__lt=end)
        .order_by("finished_at", "id")
        .values_list("request_no", "service_name", "biz_type", "user_no", "counterparty", "amount",
                     "commission", "status", "finished_at")
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    tz = ZoneInfo(settings.TIME_ZONE)
    for row in rows.iterator(chunk_size=2000):
        *fields, finished_at = row
        writer.writerow([*fields, finished_at.astimezone(tz).isoformat(timespec="milliseconds")])
        count += 1
    return out.getvalue(), count


# Each account of the platform open by the day's end (the card network is the outside world,
# not an account of the platform) with its last balance before the end; none yet: zero.
# Platform accounts carry their names as account_no, so one ORDER BY sorts them in.
BALANCES_AT_CLOSE = (
    "SELECT a.account_no, COALESCE(c.available_after, 0), COALESCE(c.frozen_after, 0) "
    "FROM bank_account a LEFT JOIN LATERAL ("
    " SELECT available_after, frozen_after FROM bank_balancechange b"
    " WHERE b.account_id = a.id AND b.created_at < %s ORDER BY b.id DESC LIMIT 1) c ON true "
    "WHERE a.platform_no = %s AND a.kind <> %s AND a.opened_at < %s "
    "ORDER BY a.account_no"
)


def render_balances(platform_no: str, day: dt.date) -> tuple[str, int]:
    _, end = _day_bounds(day)
    as_of = end.isoformat()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BALANCE_HEADER)
    count = 0
    with connections[DB].cursor() as cur:
        cur.execute(BALANCES_AT_CLOSE, [end, platform_no, Account.Kind.CARD_NETWORK, end])
        for account_no, available, frozen in cur.fetchall():
            writer.writerow([account_no, available, frozen, as_of])
            count += 1
    return out.getvalue(), count


RENDERERS = {Statement.Kind.TRANSACTIONS: render, Statement.Kind.BALANCES: render_balances}


def close_day(platform_no: str, day: dt.date | str, kind: str = Statement.Kind.TRANSACTIONS) -> Statement:
    """Write a past business day's statement (or balance file) once; later calls return the
    same bytes."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    existing = Statement.objects.using(DB).filter(platform_no=platform_no, date=day, kind=kind).first()
    if existing is not None:
        return existing
    content, count = RENDERERS[kind](platform_no, day)
    try:
        with transaction.atomic(using=DB):
            return Statement.objects.using(DB).create(
                platform_no=platform_no, date=day, kind=kind, content=content, rows=count,
                sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
            )
    except IntegrityError:
        return Statement.objects.using(DB).get(platform_no=platform_no, date=day, kind=kind)


def close_yesterday() -> list[Statement]:
    """Day-close job: yesterday's statement and balance file for every platform served."""
    from django.utils import timezone

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    return [close_day(platform_no, yesterday, kind) for platform_no in settings.BANK_PLATFORMS
            for kind in Statement.Kind.values]


# A download's answer carries the whole file (a million rows: ~130 MB of base64). The bank
# stores that answer without the file, and puts the file back from the immutable Statement
# row whenever the answer is given again (a replay, a QUERY_REQUEST): the same bytes, without
# writing the file into the request log on every download.


def stored_form(service_name: str, data: dict) -> dict:
    if service_name == "DOWNLOAD_STATEMENT" and "file" in data:
        return {k: v for k, v in data.items() if k != "file"}
    return data


def full_response(req: BankRequest, response: dict | None) -> dict | None:
    if (req.service_name != "DOWNLOAD_STATEMENT" or not response or "file" in response
            or response.get("respCode") != "00000"):
        return response
    statement = Statement.objects.using(DB).get(platform_no=req.platform_no, date=response["date"],
                                                kind=response.get("kind", Statement.Kind.TRANSACTIONS))
    return {**response, "file": base64.b64encode(statement.content.encode("utf-8")).decode("ascii")}
