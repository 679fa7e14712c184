"""SMS verification codes.

A code has 6 digits, is valid for ``SMS_CODE_TTL_SECONDS`` (5 minutes), can be used once,
is void after ``SMS_CODE_MAX_TRIES`` (5) wrong tries, and a phone can ask for a new one for the
same purpose only after ``SMS_CODE_RESEND_SECONDS`` (60 s): a login code just sent does not hold
up a password-reset code. Each day a phone may receive at most
``SMS_DAILY_LIMIT_PER_PHONE`` codes and a client IP may request at most
``SMS_DAILY_LIMIT_PER_IP`` (so one client cannot flood many numbers), whatever the purpose.

A number that cannot use a code for the purpose asked (registering a number already registered,
logging in with a number no customer uses) gets a ``notice`` instead, through the same limits and
with the same answer, so the answer never tells who is registered: the text says what applies.

Everything lives in Django's cache (Redis when ``REDIS_URL`` is set, the database cache in
the embedded mode). Only an HMAC of the code is stored. Steps that must hold under
concurrency use atomic cache primitives: ``add`` (Redis ``SET NX``) for the resend window
and for using a code once, ``incr`` for counters. The database cache's ``incr`` is a read
then a write, so there each such step runs under a PostgreSQL advisory lock on its key.
A refused request leaves every counter as it found it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from wanxin.core.errors import WanxinError
from wanxin.notifications.services import sms_send

REGISTER, LOGIN, RESET_PASSWORD = "register", "login", "reset_password"
PURPOSES: dict[str, str] = {REGISTER: gettext_lazy("registration"), LOGIN: gettext_lazy("login"),
                             RESET_PASSWORD: gettext_lazy("password reset")}
CODE_LENGTH = 6
# Counters outlive the code by this much, so they never expire while still being counted.
_MARGIN = 60


class CodeError(WanxinError):
    """A refused code; ``field`` is the form field it concerns."""

    def __init__(self, message: str, *, code: str, field: str = "code", status: int | None = None):
        super().__init__(message, code=code, status=status)
        self.field = field


@dataclasses.dataclass(frozen=True)
class IssuedCode:
    purpose: str
    mobile: str
    expires_in: int
    resend_after: int


# -- keys ----------------------------------------------------------------------------------


def _key(*parts: str) -> str:
    return settings.SMS_CACHE_PREFIX + ":".join(parts)


def code_key(purpose: str, mobile: str) -> str:
    return _key("code", purpose, mobile)


def resend_key(purpose: str, mobile: str) -> str:
    return _key("resend", purpose, mobile)


def daily_phone_key(mobile: str, day: dt.date) -> str:
    return _key("day", day.isoformat(), "phone", mobile)


def daily_ip_key(ip: str, day: dt.date) -> str:
    return _key("day", day.isoformat(), "ip", ip)


def _tries_key(nonce: str) -> str:
    return _key("tries", nonce)


def _used_key(nonce: str) -> str:
    return _key("used", nonce)


def _digest(purpose: str, mobile: str, nonce: str, code: str) -> str:
    message = f"{purpose}:{mobile}:{nonce}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


# -- counters ------------------------------------------------------------------------------


@contextmanager
def _serialized(key: str) -> Iterator[None]:
    """Make a read-modify-write of ``key`` atomic where the cache alone does not."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, DatabaseCache):  # Redis: each primitive is atomic already
        yield
        return
    alias = router.db_for_write(backend.cache_model_class)
    lock_id = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
        yield


def _count(key: str, timeout: int, delta: int = 1) -> int:
    """Add ``delta`` to a counter that expires ``timeout`` seconds from now; the new value.

    ``incr`` is atomic on Redis. ``touch`` pins the expiry, since some backends' ``incr``
    (the database cache) would otherwise reset it to the default timeout."""
    with _serialized(key):
        cache.add(key, 0, timeout)
        try:
            value = cache.incr(key, delta) if delta > 0 else cache.decr(key, -delta)
        except ValueError:  # expired between add and incr
            cache.add(key, 0, timeout)
            value = cache.incr(key, delta) if delta > 0 else cache.decr(key, -delta)
        cache.touch(key, timeout)
    return value


def _seconds_to_midnight() -> int:
    now = timezone.localtime()
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return math.ceil((tomorrow - now).total_seconds()) + _MARGIN


def _claim_resend_window(purpose: str, mobile: str) -> None:
    """Hold the phone's resend window for ``purpose``, or refuse saying how long to wait."""
    key, window = resend_key(purpose, mobile), settings.SMS_CODE_RESEND_SECONDS
    now = time.time()
    with _serialized(key):
        if cache.add(key, now, window):
            return
        sent_at = cache.get(key)
        if sent_at is None or now - float(sent_at) >= window:
            # Expired meanwhile (or a stale entry): exactly one concurrent caller wins the add.
            cache.delete(key)
            if cache.add(key, now, window):
                return
            sent_at = cache.get(key) or now
    wait = max(1, math.ceil(window - (now - float(sent_at))))
    raise CodeError(
        ngettext("A code was sent to this number moments ago. You can ask for another in %(wait)d second.",
                 "A code was sent to this number moments ago. You can ask for another in %(wait)d seconds.",
                 wait) % {"wait": wait},
        code="sms_too_soon", field="mobile", status=429,
    )


# -- issuing -------------------------------------------------------------------------------


def code_send(*, purpose: str, mobile: str, ip: str | None, notice: str | None = None) -> IssuedCode:
    """Create a code for ``purpose`` and text it to ``mobile`` (already validated).

    A new code replaces the previous one for the same purpose and phone. With ``notice``, no
    code is made and ``notice`` is texted instead, under the same limits and with the same answer."""
    if purpose not in PURPOSES:
        raise CodeError(_("Unknown purpose; use one of %(purposes)s.") % {"purposes": ", ".join(PURPOSES)},
                        code="invalid_purpose",
                        field="purpose")
    undo: list[Callable[[], object]] = []
    day, day_timeout = timezone.localdate(), _seconds_to_midnight()

    def refuse(error: CodeError) -> None:
        for step in reversed(undo):
            step()
        raise error

    _claim_resend_window(purpose, mobile)
    undo.append(lambda: cache.delete(resend_key(purpose, mobile)))

    ip_key = daily_ip_key(ip or "unknown", day)
    if _count(ip_key, day_timeout) > settings.SMS_DAILY_LIMIT_PER_IP:
        undo.append(lambda: _count(ip_key, day_timeout, -1))
        refuse(CodeError(_("Too many codes have been requested from your network today. "
                         "Please try again tomorrow."), code="sms_ip_daily_limit", field="mobile", status=429))
    undo.append(lambda: _count(ip_key, day_timeout, -1))

    phone_key = daily_phone_key(mobile, day)
    if _count(phone_key, day_timeout) > settings.SMS_DAILY_LIMIT_PER_PHONE:
        undo.append(lambda: _count(phone_key, day_timeout, -1))
        refuse(CodeError(_("This number has received the most codes allowed in one day (%(limit)d). "
                           "Please try again tomorrow.") % {"limit": settings.SMS_DAILY_LIMIT_PER_PHONE},
                         code="sms_phone_daily_limit", field="mobile", status=429))
    undo.append(lambda: _count(phone_key, day_timeout, -1))

    ttl = settings.SMS_CODE_TTL_SECONDS
    if notice is not None:
        _text(purpose=purpose, mobile=mobile, text=f"{settings.SMS_SIGNATURE}{notice}", redact=[], undo=undo)
        return IssuedCode(purpose=purpose, mobile=mobile, expires_in=ttl,
                          resend_after=settings.SMS_CODE_RESEND_SECONDS)
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    nonce = secrets.token_hex(12)
    key = code_key(purpose, mobile)
    previous = cache.get(key)
    cache.set(key, {"nonce": nonce, "digest": _digest(purpose, mobile, nonce, code),
                    "expires_at": time.time() + ttl}, ttl + _MARGIN)
    cache.set(_tries_key(nonce), 0, ttl + _MARGIN)
    undo.append(lambda: cache.set(key, previous, ttl + _MARGIN) if previous else cache.delete(key))

    text = settings.SMS_SIGNATURE + _(
        "Your Wanxin %(purpose)s code is %(code)s. It is valid for %(minutes)d minutes. "
        "Never tell it to anyone, including our staff.") % {"purpose": PURPOSES[purpose], "code": code,
                                                             "minutes": ttl // 60}
    _text(purpose=purpose, mobile=mobile, text=text, redact=[code], undo=undo)
    return IssuedCode(purpose=purpose, mobile=mobile, expires_in=ttl,
                      resend_after=settings.SMS_CODE_RESEND_SECONDS)


def _text(*, purpose: str, mobile: str, text: str, redact: list[str], undo: list[Callable[[], object]]) -> None:
    """Send the message (``redact``: what the log must not keep); if the provider fails, give
    back what sending it took."""
    try:
        sms_send(mobile=mobile, purpose=purpose, text=text, secrets=redact)
    except WanxinError:
        for step in reversed(undo):
            step()
        raise


# -- checking ------------------------------------------------------------------------------


def _expired() -> CodeError:
    return CodeError(_("There is no valid code for this number: it has expired or was never sent. "
                     "Ask for a new code."), code="code_expired")


def code_check(*, purpose: str, mobile: str, code: str) -> None:
    """Accept ``code`` once, or raise ``CodeError``. Each call counts as one try."""
    code = (code or "").strip()
    if not (len(code) == CODE_LENGTH and code.isdigit()):
        raise CodeError(_("The code has %(digits)d digits; please check the text message.") % {"digits": CODE_LENGTH},
                        code="code_malformed")
    entry = cache.get(code_key(purpose, mobile))
    if not entry or entry["expires_at"] <= time.time():
        raise _expired()
    nonce = entry["nonce"]
    if cache.get(_used_key(nonce)):
        raise CodeError(_("This code has already been used. Ask for a new code."), code="code_used")
    remaining = max(1, math.ceil(entry["expires_at"] - time.time())) + _MARGIN
    max_tries = settings.SMS_CODE_MAX_TRIES
    tries = _count(_tries_key(nonce), remaining)
    if tries > max_tries:
        raise CodeError(_("This code is void after %(tries)d wrong tries. Ask for a new code.") % {"tries": max_tries},
                        code="code_void")
    if not hmac.compare_digest(entry["digest"], _digest(purpose, mobile, nonce, code)):
        left = max_tries - tries
        if left == 0:
            raise CodeError(_("Wrong code. That was the last of %(tries)d tries: this code is now "
                              "void. Ask for a new code.") % {"tries": max_tries}, code="code_void")
        raise CodeError(ngettext("Wrong code. %(left)d try left.", "Wrong code. %(left)d tries left.", left)
                        % {"left": left},
                        code="code_wrong")
    # Single use: of any number of concurrent callers with the right code, one wins the add.
    with _serialized(_used_key(nonce)):
        first = cache.add(_used_key(nonce), 1, remaining)
    if not first:
        raise CodeError(_("This code has already been used. Ask for a new code."), code="code_used")
