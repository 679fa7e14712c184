"""Every write of the funds app: opening the depository account and starting recharges and
withdrawals at the bank's gateway. Recording money events is in ``ledger``, the bank's
balances in ``balances`` (both re-exported here); what the bank's answers do in ``results``.

The bank is reached only through ``wanxin.depository``: a business change and its
``DepositoryRequest`` (owned by the customer's account) are written in one transaction, the
customer confirms at the bank's page, and the result is routed once to ``results``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.guards import customer_require
from wanxin.core import identity, money
from wanxin.core.errors import Conflict, WanxinError
from wanxin.core.money import format_fen
from wanxin.depository import idempotency
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.fields import blind_index
from wanxin.i18n import translated

from . import domain, locks
from .balances import Balance, balance_cache_key, balance_get
from .domain import AmountError, CommissionRule, WithdrawQuote
from .ledger import FundEvents, fund_events_apply, fund_events_apply_many
from .models import BANKS, DepositoryAccount

log = logging.getLogger("wanxin.funds")

User = get_user_model()

ROLES = ("INVESTOR", "BORROWER", "BOTH")
# Authorisations asked for at opening, by role (the customer may untick any at the bank).
_ALLOCATION_AUTH = ["ALLOCATION", "ALLOCATION_FEE", "ALLOCATION_SETTLE"]
AUTH_BY_ROLE = {
    "INVESTOR": ["TENDER", *_ALLOCATION_AUTH],
    "BORROWER": ["REPAYMENT", *_ALLOCATION_AUTH],
    "BOTH": ["TENDER", "REPAYMENT", *_ALLOCATION_AUTH],
}
CALLBACK_PATH = "/funds/back"


class Invalid(WanxinError):
    """A refusal about one input; ``code`` names the field."""


# -- helpers -----------------------------------------------------------------------------------


def commission_rule() -> CommissionRule:
    return CommissionRule.from_settings(settings.FUNDS_WITHDRAW_COMMISSION)






def _callback_url() -> str:
    return settings.PLATFORM_BASE_URL.rstrip("/") + CALLBACK_PATH


def _customer(user) -> None:
    customer_require(user, _("Only customers have depository accounts."))


def _ensure_user_no(user) -> str:
    """The customer's stable userNo at the bank; assigned once if registration did not."""
    if user.user_no:
        return user.user_no
    candidate = f"WX{secrets.token_hex(8).upper()}"
    User.objects.filter(Q(user_no__isnull=True) | Q(user_no=""), pk=user.pk).update(user_no=candidate)
    user.user_no = User.objects.values_list("user_no", flat=True).get(pk=user.pk)
    return user.user_no


def _transition(account: DepositoryAccount, new: str) -> None:
    if new not in DepositoryAccount.ALLOWED[DepositoryAccount.Status(account.status)]:
        raise Conflict(f"A depository account cannot go from {account.status} to {new}.", code="bad_transition")
    account.status = new


# -- depository account opening (PERSONAL_REGISTER) --------------------------------------------


@dataclass(frozen=True)
class OpenAccountInput:
    full_name: str
    id_number: str
    bank_code: str
    card_number: str
    role: str = ""


def _clean_open_input(data: OpenAccountInput, *, user, today: dt.date) -> dict[str, str]:
    name = " ".join((data.full_name or "").split())
    if not name:
        raise Invalid(_("Enter your real name as on your ID card."), code="full_name")
    if len(name) > 50 or any(not (c.isalpha() or c in " ·.-'") for c in name):
        raise Invalid(_("A name has at most 50 letters (spaces, · . - ' allowed)."), code="full_name")
    try:
        id_number = (data.id_number or "").strip().upper()
        identity.parse_resident_id(id_number, today=today)
    except identity.IdentityError as exc:
        raise Invalid(translated(exc), code="id_number") from exc
    try:
        card = identity.check_card_number(data.card_number or "")
    except identity.IdentityError as exc:
        raise Invalid(translated(exc), code="card_number") from exc
    if data.bank_code not in dict(BANKS):
        raise Invalid(_("Choose your card's bank from the list."), code="bank_code")
    role = data.role or user.role or ""
    if role not in ROLES:
        raise Invalid(_("Choose whether you invest, borrow or both."), code="role")
    try:
        mobile = identity.check_mobile(user.mobile or "")
    except identity.IdentityError as exc:
        raise Invalid(_("Your profile needs a valid mobile number before opening an account."), code="mobile") from exc
    return {"full_name": name, "id_number": id_number, "card_number": card, "bank_code": data.bank_code,
            "role": role, "mobile": mobile}


def account_open(*, user, data: OpenAccountInput, today: dt.date | None = None) -> DepositoryRequest:
    """Start opening the customer's depository account; the customer then confirms at the
    bank's page (``/funds/go/<requestNo>``). Refused while one is pending or already open."""
    _customer(user)
    clean = _clean_open_input(data, user=user, today=today or timezone.localdate())
    user_no = _ensure_user_no(user)
    index = blind_index(clean["id_number"])
    try:
        with transaction.atomic():
            account = locks.account_of_user_lock(user, user_no=user_no)
            if account.status == DepositoryAccount.Status.OPEN:
                raise Conflict(_("You already have a depository account."), code="already_open")
            if account.status == DepositoryAccount.Status.PENDING:
                raise Conflict(_("Your account opening is waiting for the bank: continue there or wait for "
                               "its answer."), code="pending")
            taken = (DepositoryAccount.objects.filter(id_number_index=index, status__in=["PENDING", "OPEN"])
                     .exclude(pk=account.pk).exists())
            if taken:
                raise Invalid(_("This ID number already has a depository account."), code="id_number")
            _transition(account, DepositoryAccount.Status.PENDING)
            auth = AUTH_BY_ROLE[clean["role"]]
            record = depository.request_create(
                service_name="PERSONAL_REGISTER",
                payload={
                    "userNo": account.user_no,
                    "fullName": clean["full_name"],
                    "idNumber": clean["id_number"],
                    "mobile": clean["mobile"],
                    "role": clean["role"],
                    "bankCode": clean["bank_code"],
                    "cardNumber": clean["card_number"],
                    "authList": auth,
                    "callbackUrl": _callback_url(),
                },
                owner=account,
                user_no=account.user_no,
                prefix="WXO",
            )
            account.full_name, account.id_number = clean["full_name"], clean["id_number"]
            account.id_number_index, account.card_number = index, clean["card_number"]
            account.bank_code, account.mobile, account.role = clean["bank_code"], clean["mobile"], clean["role"]
            account.requested_auth, account.request_no = auth, record.request_no
            account.fail_reason, account.attempts = "", account.attempts + 1
            account.save()
    except IntegrityError as exc:  # a concurrent opening with the same ID number won the race
        raise Invalid(_("This ID number already has a depository account."), code="id_number") from exc
    log.info("depository account opening %s for %s", record.request_no, user_no)
    return record


# -- recharge and withdraw -------------------------------------------------------------------


def open_account_required(user) -> DepositoryAccount:
    """The customer's open depository account, or a refusal saying to open one first."""
    _customer(user)
    account = DepositoryAccount.objects.filter(user=user).first()
    if account is None or not account.is_open:
        raise Conflict(_("Open your depository account first."), code="no_account")
    return account


def parse_amount(*, yuan: str | None = None, fen: object = None) -> int:
    """Exactly one of an amount typed in yuan or an int of fen (API clients)."""
    if yuan is not None and fen is not None:
        raise Invalid(_("Give the amount once: in yuan or in fen, not both."), code="amount")
    if yuan is None and fen is None:
        raise Invalid(_("Enter an amount."), code="amount")
    try:
        if yuan is not None:
            return money.parse_yuan(yuan, maximum=settings.FUNDS_MAX_AMOUNT_FEN)
        return money.check_fen(fen, maximum=settings.FUNDS_MAX_AMOUNT_FEN)
    except AmountError as exc:
        raise Invalid(translated(exc), code="amount") from exc


def withdraw_quote(*, amount: int) -> WithdrawQuote:
    try:
        amount = money.check_fen(amount, maximum=settings.FUNDS_MAX_AMOUNT_FEN)
        return domain.withdraw_quote(amount, commission_rule())
    except AmountError as exc:
        raise Invalid(translated(exc), code="amount") from exc


def recharge_start(*, user, amount: int) -> DepositoryRequest:
    """Record a recharge of ``amount`` fen; the customer confirms it at the bank's page."""
    account = open_account_required(user)
    amount = parse_amount(fen=amount)
    with transaction.atomic():
        return depository.request_create(
            service_name="RECHARGE",
            payload={"userNo": account.user_no, "amount": amount, "callbackUrl": _callback_url()},
            owner=account, user_no=account.user_no, amount=amount, prefix="WXR",
        )


def withdraw_start(*, user, amount: int) -> DepositoryRequest:
    """Record a withdrawal: ``amount`` fen leaves the account, the commission goes to the
    platform at the bank, the rest to the bound card."""
    account = open_account_required(user)
    quote = withdraw_quote(amount=parse_amount(fen=amount))
    balance = balance_get(account=account)
    if balance.source == "bank" and quote.amount > balance.available:
        raise Invalid(_("Your available balance is %(balance)s.") % {"balance": format_fen(balance.available)},
                      code="amount")
    with transaction.atomic():
        return depository.request_create(
            service_name="WITHDRAW",
            payload={"userNo": account.user_no, "amount": quote.amount, "commission": quote.commission,
                     "callbackUrl": _callback_url()},
            owner=account, user_no=account.user_no, amount=quote.amount, prefix="WXW",
        )


def submit_once(*, user, token: str, request: dict[str, object], start) -> DepositoryRequest:
    """Run ``start()`` at most once per (customer, form token or Idempotency-Key): a double
    click or a resent API call gets the first request back, even after a crash; the same key
    with another ``request`` (service, amount) is refused (``depository.idempotency``)."""
    return idempotency.submit_once(user=user, scope="funds.submit", key=token, request=request,
                                   model=DepositoryRequest, create=lambda _prepared: start())

__all__ = [  # the public writes, with those of ledger and balances
    "AUTH_BY_ROLE", "Balance", "FundEvents", "Invalid", "OpenAccountInput", "account_open",
    "balance_cache_key", "balance_get", "commission_rule", "fund_events_apply", "fund_events_apply_many",
    "open_account_required", "parse_amount", "recharge_start", "submit_once", "withdraw_quote", "withdraw_start",
]
