"""Browser gateway flows (PROTOCOL §4): the customer confirms at the bank's own page
with the trade password; the result is final at the bank, notified to the platform,
and the browser is sent back to the request's callbackUrl."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.contrib.auth.hashers import check_password, make_password
from django.core import signing as django_signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wanxin.protocol import codes, messages
from wanxin.protocol.codes import ProtocolError

from . import accounts, handlers, processing
from .models import Account, BankRequest
from .processing import DB, BusinessError, Verified

MAX_PASSWORD_FAILURES = 3
LOCK_FOR = dt.timedelta(minutes=30)
TRADE_PASSWORD_RE = re.compile(r"^\d{6}$")
TOKEN_SALT = "wanxin.bank.gateway"


@dataclass
class Page:
    """What the gateway view should show next."""

    req: BankRequest
    error: str = ""
    # Authorisations the customer ticked before an error re-rendered the form (None: all offered).
    chosen: list[str] | None = None

    @property
    def finished(self) -> bool:
        return self.req.status != BankRequest.Status.PROCESSING

    @property
    def token(self) -> str:
        return django_signing.dumps(self.req.pk, salt=TOKEN_SALT)

    @property
    def callback(self) -> str:
        parts = urlsplit(self.req.req_data["callbackUrl"])
        query = urlencode({"requestNo": self.req.request_no, "respCode": self.req.resp_code})
        # Keep any #fragment after the query, where it belongs.
        return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))


def open_request(fields: Any) -> Page:
    """Verify the posted envelope and record the request as PROCESSING (or find it)."""
    v = processing.verify(fields, allowed=messages.GATEWAY_SERVICES)
    with transaction.atomic(using=DB):
        req, created = processing.claim(v)
        if not created:
            if req.digest != v.digest:
                raise ProtocolError(codes.REQUEST_NO_REUSED)
            return _landing(req)
        try:
            _check_can_start(v)
        except BusinessError as exc:
            processing.finish(req, exc.code, exc.message, {})
        return _landing(req)


def _landing(req: BankRequest) -> Page:
    """The first page: a locked account is told so before typing the password."""
    if req.status != BankRequest.Status.PROCESSING or req.service_name == "PERSONAL_REGISTER":
        return Page(req)
    account = Account.objects.using(DB).filter(platform_no=req.platform_no, account_no=req.req_data["userNo"]).first()
    return Page(req, _lock_notice(account) if account is not None else "")


def _lock_notice(account: Account) -> str:
    if account.locked_until and account.locked_until > timezone.now():
        local = timezone.localtime(account.locked_until).strftime("%H:%M")
        return _("This account is locked after wrong passwords until %(time)s.") % {"time": local}
    return ""


def _check_can_start(v: Verified) -> None:
    platform_no, data = v.platform.platform_no, v.data
    if v.service_name == "PERSONAL_REGISTER":
        # A parameter refusal (00003): raised inside the claim's transaction, so the
        # request is not recorded, as PROTOCOL §3 requires for 00003.
        existing = Account.objects.using(DB).filter(platform_no=platform_no)
        if existing.filter(account_no=data["userNo"]).exists():
            raise ProtocolError(codes.INVALID_PARAMS, f"{data['userNo']} already has a depository account")
        if existing.filter(kind=Account.Kind.CUSTOMER, id_number=data["idNumber"]).exists():
            raise ProtocolError(codes.INVALID_PARAMS, "this ID number already has a depository account")
        return
    accounts.customer(platform_no, data["userNo"])


def request_for_token(token: str) -> BankRequest | None:
    try:
        pk = django_signing.loads(token, salt=TOKEN_SALT, max_age=24 * 3600)
    except django_signing.BadSignature:
        return None
    return BankRequest.objects.using(DB).filter(pk=pk).first()


def confirm(req_pk: int, form: dict[str, Any]) -> Page:
    """The customer pressed confirm (or cancel) on the bank's page."""
    with transaction.atomic(using=DB):
        req = BankRequest.objects.using(DB).select_for_update().get(pk=req_pk)
        if req.status != BankRequest.Status.PROCESSING:
            return Page(req)
        if form.get("action") == "cancel":
            processing.finish(req, codes.GATEWAY_ABANDONED, "cancelled by the customer", {})
            return Page(req)
        data = req.req_data
        if req.service_name == "PERSONAL_REGISTER":
            return _register(req, data, form)
        account = Account.objects.using(DB).select_for_update().filter(
            platform_no=req.platform_no, account_no=data["userNo"]
        ).first()
        if account is None:
            processing.finish(req, codes.ACCOUNT_NOT_FOUND, None, {})
            return Page(req)
        now = timezone.now()
        locked = _lock_notice(account)
        if locked:
            return Page(req, locked)
        if not check_password(form.get("password", ""), account.trade_password):
            failures = account.failed_password_count + 1
            if failures >= MAX_PASSWORD_FAILURES:
                Account.objects.using(DB).filter(pk=account.pk).update(
                    failed_password_count=0, locked_until=now + LOCK_FOR
                )
                processing.finish(req, codes.WRONG_PASSWORD, "wrong trade password three times; locked 30 minutes", {})
                return Page(req)
            Account.objects.using(DB).filter(pk=account.pk).update(failed_password_count=failures)
            left = MAX_PASSWORD_FAILURES - failures
            return Page(req, ngettext("Wrong trade password. %(left)d attempt left.",
                                      "Wrong trade password. %(left)d attempts left.", left) % {"left": left})
        if account.failed_password_count:
            Account.objects.using(DB).filter(pk=account.pk).update(failed_password_count=0)
        processing.run_handler(req, handlers.GATEWAY[req.service_name], data)
        return Page(req)


def _register(req: BankRequest, data: dict[str, Any], form: dict[str, Any]) -> Page:
    password, again = form.get("password", ""), form.get("password_again", "")
    offered = set(data["authList"])
    granted = sorted(a for a in form.get("auth", []) if a in offered)
    if not TRADE_PASSWORD_RE.fullmatch(password):
        return Page(req, _("The trade password must be exactly 6 digits."), granted)
    if password != again:
        return Page(req, _("The two passwords differ."), granted)
    if len(set(password)) == 1 or password in "0123456789" or password in "9876543210":
        return Page(req, _("That trade password is too easy to guess."), granted)

    def open_account(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
        try:
            with transaction.atomic(using=DB):
                accounts.open_customer(req.platform_no, data, password_hash=make_password(password),
                                       granted=granted)
        except IntegrityError as exc:  # another request opened this userNo a moment ago
            raise BusinessError(codes.INVALID_PARAMS, f"{data['userNo']} already has an account") from exc
        return {"userNo": data["userNo"], "authList": granted}

    processing.run_handler(req, open_account, data)
    return Page(req)


def expire_stale(*, older_than: dt.timedelta) -> int:
    """Fail gateway requests nobody finished at the bank's page (code 30004)."""
    cutoff = timezone.now() - older_than
    count = 0
    stale = BankRequest.objects.using(DB).filter(
        status=BankRequest.Status.PROCESSING,
        service_name__in=messages.GATEWAY_SERVICES,
        created_at__lt=cutoff,
    ).values_list("pk", flat=True)[:500]
    for pk in list(stale):
        with transaction.atomic(using=DB):
            req = BankRequest.objects.using(DB).select_for_update(skip_locked=True).filter(
                pk=pk, status=BankRequest.Status.PROCESSING
            ).first()
            if req is not None:
                processing.finish(req, codes.GATEWAY_ABANDONED, "expired at the bank's page", {})
                count += 1
    return count
