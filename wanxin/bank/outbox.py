"""Notification delivery: at-least-once, exponential backoff, for at least 24 hours.

Rows are claimed with FOR UPDATE SKIP LOCKED so any number of workers can run.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import ssl

import httpx
from django.db import transaction
from django.utils import timezone

from .models import Notification
from .platforms import get_platform

log = logging.getLogger("wanxin.bank.outbox")
DB = "bank"
FIRST_DELAY = dt.timedelta(seconds=5)
MAX_DELAY = dt.timedelta(hours=1)
GIVE_UP_AFTER = dt.timedelta(hours=25)  # "at least 24 h" with a margin


def backoff(attempts: int) -> dt.timedelta:
    """5 s, 10 s, 20 s, … capped at one hour."""
    return min(FIRST_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Once per process: loading the CA bundle for a new client costs tens of milliseconds of
    CPU (docs/benchmarks.md, hot loan), and the worker runs every few seconds."""
    return httpx.create_ssl_context()


def deliver_due(*, limit: int = 100, client: httpx.Client | None = None, timeout: float = 5.0) -> int:
    """Try every due notification once; returns how many were delivered. A client is only
    built when something is due."""
    delivered = 0
    own_client = client is None
    try:
        for _ in range(limit):
            with transaction.atomic(using=DB):
                note = (
                    Notification.objects.using(DB)
                    .select_for_update(skip_locked=True)
                    .filter(status=Notification.Status.PENDING, next_attempt_at__lte=timezone.now())
                    .order_by("next_attempt_at", "id")
                    .first()
                )
                if note is None:
                    break
                if client is None:
                    client = httpx.Client(timeout=timeout, verify=_tls_context())
                if _attempt(note, client):
                    delivered += 1
    finally:
        if own_client and client is not None:
            client.close()
    return delivered


def _attempt(note: Notification, client: httpx.Client) -> bool:
    platform = get_platform(note.platform_no)
    now = timezone.now()
    note.attempts += 1
    error = ""
    if platform is None:
        error = "platform no longer configured"
    else:
        try:
            response = client.post(platform.notify_url, json=note.body)
            if response.status_code == 200 and response.text.strip() == "OK":
                note.status = Notification.Status.DELIVERED
                note.delivered_at = now
            else:
                error = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    if note.status != Notification.Status.DELIVERED:
        note.last_error = error
        if now - note.created_at > GIVE_UP_AFTER:
            note.status = Notification.Status.ABANDONED
            log.error("notification %s abandoned after %s attempts", note.request_no, note.attempts)
        else:
            note.next_attempt_at = now + backoff(note.attempts)
    note.save(using=DB)
    return note.status == Notification.Status.DELIVERED
