"""Daily statements (PROTOCOL §6): one immutable CSV per platform per business day."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction

from .models import BankRequest, Statement

DB = "bank"
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


def close_day(platform_no: str, day: dt.date | str) -> Statement:
    """Write the statement of a past business day once; later calls return the same rows."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    existing = Statement.objects.using(DB).filter(platform_no=platform_no, date=day).first()
    if existing is not None:
        return existing
    content, count = render(platform_no, day)
    try:
        with transaction.atomic(using=DB):
            return Statement.objects.using(DB).create(
                platform_no=platform_no, date=day, content=content, rows=count,
                sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
            )
    except IntegrityError:
        return Statement.objects.using(DB).get(platform_no=platform_no, date=day)


def close_yesterday() -> list[Statement]:
    """Day-close job: the statement of yesterday for every platform served."""
    from django.utils import timezone

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    return [close_day(platform_no, yesterday) for platform_no in settings.BANK_PLATFORMS]
