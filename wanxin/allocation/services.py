"""Every write of allocation (so far: applying and paying, making up the risk fund).

Paying is a chain of bank requests, each issued when the previous one is final, so a
failure never leaves money half taken (their results are applied in ``results.py``):

1. ``USER_PRE_TRANSACTION`` ALLOCATION freezes the deposit;
2. then ``TRANSFER`` ALLOCATION_FEE takes the first fee to PLATFORM_INCOME;
3. then (when the customer pays both) another freeze holds the risk fund.
The allocation is ``PAID`` when all three are done, ``DEPOSIT_PAID`` without the risk
fund (chosen, or refused by the bank: the customer makes it up later), ``CANCELLED`` when
the deposit or the fee fails (the deposit, if frozen, is released with
``CANCEL_PRE_TRANSACTION``). The essentials go first so a short balance never strands them.

Each business change and its depository request commit together; the request is sent
after the commit. Lock order: allocation, then (in result handlers, after the depository
request ``result_apply`` holds) the customer's account mirror.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.core.money import format_fen
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount

from . import domain, selectors
from .errors import Invalid
from .models import Allocation, BankRequest, FundRecord

log = logging.getLogger("wanxin.allocation")

PLATFORM_INCOME, PLATFORM_CAPITAL = "PLATFORM_INCOME", "PLATFORM_CAPITAL"
REQUIRED_AUTH = ("ALLOCATION", "ALLOCATION_FEE")
Purpose = BankRequest.Purpose


def _customer(user) -> None:
    if user is None or not user.is_authenticated or not getattr(user, "is_customer", False):
        raise WanxinError(_("Only customers can do this."), code="not_customer", status=403)


def _open_account(user) -> DepositoryAccount:
    account = DepositoryAccount.objects.filter(user=user).first()
    if account is None or not account.is_open:
        raise Conflict(_("Open your depository account first."), code="no_account")
    missing = [t for t in REQUIRED_AUTH if t not in (account.auth_list or [])]
    if missing:
        raise Conflict(_("Authorise %(types)s at the bank first (on your money page).") % {"types": ", ".join(missing)},
                       code="not_authorised")
    return account


def _send_after_commit(record: DepositoryRequest) -> None:
    def send() -> None:
        try:
            depository.request_send(record=record)
        except Exception:  # the recovery job looks it up
            log.exception("sending %s failed; recovery will look it up", record.request_no)

    transaction.on_commit(send)


def move(allocation: Allocation, new: str, *, actor=None, note: str = "", **fields) -> None:
    """Move ``allocation`` (held under its row lock) to ``new`` through the one table of
    allowed transitions, and record the change in its fund dynamics."""
    try:
        domain.check_move(domain.MOVES, allocation.status, new)
    except domain.IllegalTransition as exc:
        raise Conflict(_("The allocation is %(status)s: this cannot be done now.")
                       % {"status": allocation.status_label()}, code="bad_status") from exc
    old = allocation.status
    updated = Allocation.objects.filter(pk=allocation.pk, status=old).update(
        status=new, updated_at=timezone.now(), **fields)
    if updated != 1:  # pragma: no cover - callers hold the row lock
        raise Conflict(_("The allocation changed meanwhile; reload and try again."), code="changed")
    allocation.status = new
    for key, value in fields.items():
        setattr(allocation, key, value)
    FundRecord.objects.create(allocation=allocation, kind=FundRecord.Kind.STATUS, status_from=old, status_to=new,
                              note=note[:300], actor=actor)


def bank_request(allocation: Allocation, purpose: str, *, service_name: str, payload: dict, amount: int,
                 pre_request_no: str = "", prefix: str = "WXA") -> BankRequest:
    """Record a depository request owned by ``allocation`` and send it after the commit."""
    record = depository.request_create(service_name=service_name, payload=payload,
                                       user_no=allocation.customer.user_no, amount=amount, prefix=prefix)
    owned = BankRequest.objects.create(allocation=allocation, purpose=purpose, request_no=record.request_no,
                                       pre_request_no=pre_request_no, amount=amount)
    _send_after_commit(record)
    return owned


def freeze_issue(allocation: Allocation, purpose: str, amount: int) -> BankRequest:
    return bank_request(allocation, purpose, service_name="USER_PRE_TRANSACTION", amount=amount, payload={
        "userNo": allocation.customer.user_no, "bizType": "ALLOCATION", "amount": amount,
        "remark": f"allocation {allocation.allocation_no} {purpose.lower()}"}, prefix="WXAF")


def fee_issue(allocation: Allocation, amount: int) -> BankRequest:
    return bank_request(allocation, Purpose.FEE, service_name="TRANSFER", amount=amount, payload={
        "bizType": "ALLOCATION_FEE", "payer": allocation.customer.user_no, "payee": PLATFORM_INCOME,
        "amount": amount}, prefix="WXAT")


def release_issue(allocation: Allocation, freeze: BankRequest, amount: int) -> BankRequest:
    """Unfreeze what remains (``amount``) of one freeze of the allocation."""
    return bank_request(allocation, Purpose.RELEASE, service_name="CANCEL_PRE_TRANSACTION", amount=amount,
                        payload={"preRequestNo": freeze.request_no}, pre_request_no=freeze.request_no,
                        prefix="WXAC")


# -- applying and paying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInput:
    product_id: int
    deposit: int
    multiple: int
    duration: int
    pay_risk_fund: bool = True
    token: str = ""


def allocation_apply(*, customer, data: ApplicationInput) -> Allocation:
    """Apply for an allocation and pay: the deposit is frozen first, then the first fee is
    charged, then the risk fund frozen when ``pay_risk_fund``. A resent form or API call with the
    same ``token`` returns the first allocation."""
    _customer(customer)
    if len(data.token) > 64:
        raise Invalid(_("The idempotency key has at most 64 characters."), code="invalid_token")
    if data.token:
        existing = Allocation.objects.filter(customer=customer, submit_token=data.token).first()
        if existing is not None:
            return existing
    if type(data.product_id) is not int:
        raise Invalid(_("Choose a product by its id."), code="invalid_productId")
    account = _open_account(customer)
    product = selectors.product_on_sale(data.product_id)
    quote = selectors.quote(product=product, deposit=data.deposit, multiple=data.multiple, duration=data.duration,
                            start=None)
    pay_now = quote.pay_now if data.pay_risk_fund else quote.deposit + quote.fee
    if account.available < pay_now:
        raise Conflict(_("Paying now takes %(pay)s; your available balance is %(available)s. Recharge first%(or)s.")
                       % {"pay": format_fen(pay_now), "available": format_fen(account.available),
                          "or": _(", or pay the deposit only") if data.pay_risk_fund else ""},
                       code="insufficient_balance")
    try:
        with transaction.atomic():
            allocation = Allocation.objects.create(
                allocation_no=f"AL{timezone.localtime().strftime('%Y%m%d')}{secrets.token_hex(4).upper()}",
                customer=customer, product=product, product_type=product.type, multiple=quote.multiple,
                rate=product.terms().rates[quote.multiple], duration=quote.duration,
                risk_fund_rate=product.risk_fund_rate, warning_pct=product.warning_pct,
                liquidation_pct=product.liquidation_pct, deposit=quote.deposit, allocated=quote.allocated,
                risk_fund=quote.risk_fund, fee=quote.fee, warning_line=quote.warning_line,
                liquidation_line=quote.liquidation_line, pays_risk_fund=data.pay_risk_fund,
                submit_token=data.token)
            FundRecord.objects.create(allocation=allocation, kind=FundRecord.Kind.STATUS,
                                      status_to=domain.APPLIED, actor=customer)
            freeze_issue(allocation, Purpose.DEPOSIT, allocation.deposit)
    except IntegrityError:
        if data.token:  # the same form sent twice at once: the other one won
            existing = Allocation.objects.filter(customer=customer, submit_token=data.token).first()
            if existing is not None:
                return existing
        raise
    return allocation


def risk_fund_make_up(*, customer, allocation_id: int) -> BankRequest:
    """Freeze what is missing of the risk fund of an allocation paid deposit-only."""
    _customer(customer)
    _open_account(customer)
    with transaction.atomic():
        allocation = owned_locked(customer, allocation_id)
        if allocation.status != domain.DEPOSIT_PAID or allocation.risk_fund_due <= 0:
            raise Conflict(_("There is no risk fund to make up on this allocation."), code="bad_status")
        if allocation.bank_requests.filter(purpose=Purpose.RISK_FUND, status="PENDING").exists():
            raise Conflict(_("The risk fund is already on its way to the bank; wait a moment."), code="pending")
        account = DepositoryAccount.objects.get(user=customer)
        if account.available < allocation.risk_fund_due:
            raise Conflict(_("Making up the risk fund takes %(due)s; your available balance is %(available)s.")
                           % {"due": format_fen(allocation.risk_fund_due), "available": format_fen(account.available)},
                           code="insufficient_balance")
        return freeze_issue(allocation, Purpose.RISK_FUND, allocation.risk_fund_due)


def owned_locked(customer, allocation_id: int) -> Allocation:
    """The customer's own allocation under its row lock; another's is "not found"."""
    allocation = (Allocation.objects.select_for_update().select_related("customer")
                  .filter(pk=allocation_id, customer=customer).first())
    if allocation is None:
        raise NotFound(_("No such allocation."), code="not_found")
    return allocation
