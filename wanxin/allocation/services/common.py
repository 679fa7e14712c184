"""What every allocation service shares: who may act, the status mover (the one table of
allowed transitions, each change a fund record), and the depository requests an allocation
owns (recorded in the caller's transaction, sent after its commit)."""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.guards import customer_require, operator_require
from wanxin.core.errors import Conflict, NotFound
from wanxin.core.ids import new_request_no
from wanxin.depository import services as depository
from wanxin.funds.models import DepositoryAccount

from .. import domain
from ..models import Allocation, BankRequest, FundRecord

log = logging.getLogger("wanxin.allocation")

PLATFORM_INCOME, PLATFORM_CAPITAL = "PLATFORM_INCOME", "PLATFORM_CAPITAL"
REQUIRED_AUTH = ("ALLOCATION", "ALLOCATION_FEE")
Purpose = BankRequest.Purpose


# The foundation's guards, under the names the allocation services use.
require = operator_require
customer_only = customer_require


def open_account(user) -> DepositoryAccount:
    account = DepositoryAccount.objects.filter(user=user).first()
    if account is None or not account.is_open:
        raise Conflict(_("Open your depository account first."), code="no_account")
    missing = [t for t in REQUIRED_AUTH if t not in (account.auth_list or [])]
    if missing:
        raise Conflict(_("Authorise %(types)s at the bank first (on your money page).") % {"types": ", ".join(missing)},
                       code="not_authorised")
    return account


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
    """Record a depository request owned by a new ``BankRequest`` of ``allocation`` (saved
    first with the request number, docs/decisions/0004) and send it after the commit."""
    owned = BankRequest.objects.create(allocation=allocation, purpose=purpose, request_no=new_request_no(prefix),
                                       pre_request_no=pre_request_no, amount=amount)
    record = depository.request_create(service_name=service_name, payload=payload, owner=owned,
                                       request_no=owned.request_no, user_no=allocation.customer.user_no,
                                       amount=amount)
    depository.request_send_on_commit(record)
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


def owned_locked(customer, allocation_id: int) -> Allocation:
    """The customer's own allocation under its row lock; another's is "not found"."""
    allocation = (Allocation.objects.select_for_update().select_related("customer")
                  .filter(pk=allocation_id, customer=customer).first())
    if allocation is None:
        raise NotFound(_("No such allocation."), code="not_found")
    return allocation


def locked(allocation_id: int) -> Allocation:
    """An allocation under its row lock (operators)."""
    allocation = Allocation.objects.select_for_update().select_related("customer").filter(pk=allocation_id).first()
    if allocation is None:
        raise NotFound(_("No such allocation."), code="not_found")
    return allocation
