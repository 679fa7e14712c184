"""SMS backends: one interface, chosen by ``settings.SMS_BACKEND`` (a dotted path).

- ``ConsoleBackend``: development; logs the message and appends it to ``VAR_DIR/sms.log``.
- ``MemoryBackend``: tests; keeps every message in the module-level ``outbox``.
- ``wanxin.notifications.provider.ProviderBackend``: a real SMS gateway over HTTP; in its
  own module, loaded only by dotted path, so code that sends SMS never imports an HTTP client.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger("wanxin.sms")


class SmsDeliveryError(Exception):
    """The backend could not hand the message over; the text says why (for the log)."""


class SmsBackend:
    """Hands one text message to a carrier. ``send`` raises ``SmsDeliveryError`` on failure."""

    name = "base"

    def send(self, mobile: str, text: str) -> None:
        raise NotImplementedError


class ConsoleBackend(SmsBackend):
    name = "console"
    _lock = threading.Lock()

    def send(self, mobile: str, text: str) -> None:
        log.info("SMS to %s: %s", mobile, text)
        path = settings.VAR_DIR / "sms.log"
        line = f"{timezone.localtime():%Y-%m-%d %H:%M:%S%z}\t{mobile}\t{text}\n"
        try:
            with self._lock:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as f:
                    f.write(line)
        except OSError as exc:
            raise SmsDeliveryError(f"cannot write {path}: {exc}") from exc


@dataclasses.dataclass(frozen=True)
class SentSms:
    mobile: str
    text: str
    sent_at: dt.datetime


# The test outbox: every message the memory backend was given, oldest first.
outbox: list[SentSms] = []
_outbox_lock = threading.Lock()


class MemoryBackend(SmsBackend):
    name = "memory"

    def send(self, mobile: str, text: str) -> None:
        with _outbox_lock:
            outbox.append(SentSms(mobile=mobile, text=text, sent_at=timezone.now()))


def outbox_clear() -> None:
    with _outbox_lock:
        outbox.clear()


@cache
def _backend(path: str) -> SmsBackend:
    return import_string(path)()


def backend() -> SmsBackend:
    """The configured backend (one instance per dotted path)."""
    return _backend(settings.SMS_BACKEND)
