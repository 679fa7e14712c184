"""The bank's background jobs; run by the embedded scheduler or Celery beat."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from . import gateway, outbox, statements


def deliver_notifications() -> int:
    return outbox.deliver_due()


def expire_gateway_requests() -> int:
    return gateway.expire_stale(older_than=dt.timedelta(seconds=settings.BANK_GATEWAY_EXPIRY_SECONDS))


def close_day() -> int:
    return len(statements.close_yesterday())
