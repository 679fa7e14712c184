"""Sending SMS: the one entry other apps call."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from wanxin.core.errors import WanxinError
from wanxin.core.identity import IdentityError, check_mobile
from wanxin.i18n import translated

from .backends import SmsDeliveryError, backend
from .models import SmsMessage

log = logging.getLogger("wanxin.sms")

MAX_TEXT_LENGTH = 500


class SmsUnavailable(WanxinError):
    status = 503


def _log_text(text: str, secrets: Iterable[str]) -> str:
    if not settings.SMS_LOG_REDACT_SECRETS:
        return text
    for secret in secrets:
        if secret:
            text = text.replace(secret, "*" * len(secret))
    return text


def sms_send(*, mobile: str, purpose: str, text: str, secrets: Iterable[str] = ()) -> SmsMessage:
    """Send ``text`` to ``mobile`` through the configured backend and log it.

    ``secrets`` (e.g. a verification code) are masked in the log when
    ``SMS_LOG_REDACT_SECRETS`` is on (production). The log row is written whether the
    backend accepted the message or not; a failure raises ``SmsUnavailable`` (503).
    Inside a transaction that later rolls back the log row goes too, though the message
    has left: send after committing (``transaction.on_commit``) when that matters."""
    try:
        mobile = check_mobile(mobile)
    except IdentityError as exc:
        raise WanxinError(translated(exc), code="invalid_mobile") from exc
    if not text.strip():
        raise WanxinError(_("An SMS needs some text."), code="empty_sms")
    if len(text) > MAX_TEXT_LENGTH:
        raise WanxinError(_("An SMS has at most %(count)d characters.") % {"count": MAX_TEXT_LENGTH},
                          code="sms_too_long")
    secrets = tuple(secrets)
    sender = backend()
    try:
        sender.send(mobile, text)
    except SmsDeliveryError as exc:
        log.error("SMS to %s (%s) failed: %s", mobile, purpose, exc)
        SmsMessage.objects.create(mobile=mobile, purpose=purpose, text=_log_text(text, secrets),
                                  backend=sender.name, status=SmsMessage.Status.FAILED, error=str(exc))
        raise SmsUnavailable(
            "We could not send the text message just now. Please try again in a few minutes.",
            code="sms_unavailable",
        ) from exc
    return SmsMessage.objects.create(mobile=mobile, purpose=purpose, text=_log_text(text, secrets),
                                     backend=sender.name)


def sms_on_commit(mobile: str | None, purpose: str, text: str) -> None:
    """Send an SMS once the caller's transaction commits (nothing if it rolls back, or if
    there is no mobile). A failure to send is logged, never raised: the business change
    it tells about has already committed."""

    def send() -> None:
        try:
            sms_send(mobile=mobile or "", purpose=purpose, text=text)
        except WanxinError as exc:
            log.warning("SMS %s to %s not sent: %s", purpose, mobile, exc.message)

    if mobile:
        transaction.on_commit(send)
