"""Termination and settlement: the customer applies to terminate (or a liquidation is
closed by operators), an allocation operator proposes the settlement from the final total
assets, a finance officer (never the proposer) approves it, and the bank moves the money.

Money out of a freeze goes first (the loss to PLATFORM_CAPITAL, then arrears to
PLATFORM_INCOME, each ``TRANSFER`` with ``preRequestNo``), with a profit paid from
PLATFORM_CAPITAL; only when none of those is still at the bank are the freezes released
(``CANCEL_PRE_TRANSACTION`` releases all that remains of a freeze, so it must come last).
The allocation is SETTLED when every request is final (``results.py``)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.duties import checker_independence_require
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound
from wanxin.depository import services as depository

from .. import domain
from ..errors import Invalid, invalid
from ..models import Allocation, BankRequest, FundRecord, Request, Settlement, SubAccount
from .common import (
    PLATFORM_CAPITAL,
    PLATFORM_INCOME,
    Purpose,
    bank_request,
    customer_only,
    locked,
    move,
    owned_locked,
    release_issue,
    require,
)

PROPOSE = "review_allocations"
# Approving moves the platform's and the customer's money: the finance officer's dedicated
# money permission, checked by someone independent of the proposer (backoffice.duties).
APPROVE = "settle_allocation"
DEPOSIT_FREEZES = (Purpose.DEPOSIT, Purpose.TOP_UP, Purpose.INCREASE)
OUT_OF_FREEZES = (Purpose.LOSS, Purpose.ARREARS)
SETTLING = (Purpose.SETTLE, Purpose.LOSS, Purpose.ARREARS)
# A refused request that operators asked again under a new requestNo: final, moved nothing,
# and no longer waited for (FAIL still is: it holds the settlement until someone retries).
RETRIED = "RETRIED"
NOT_MOVED = ("FAIL", RETRIED)


def termination_apply(*, customer, allocation_id: int, reason: str) -> Request:
    """The customer applies to terminate a running allocation."""
    customer_only(customer)
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise Invalid(_("Say why (at most 300 characters)."), code="invalid_reason")
    with transaction.atomic():
        allocation = owned_locked(customer, allocation_id)
        if allocation.status not in domain.RUNNING:
            raise Conflict(_("The allocation is %(status)s: it cannot be terminated now.")
                           % {"status": allocation.status_label()}, code="bad_status")
        request = Request.objects.create(allocation=allocation, kind=domain.TERMINATION, reason=reason)
        move(allocation, domain.TERMINATION_REQUESTED, actor=customer, note=reason)
    return request


def _freezes(allocation: Allocation, purposes) -> list[tuple[BankRequest, int]]:
    """The allocation's successful freezes of ``purposes`` with what remains of each
    (its amount less every transfer out of it that is not refused), oldest first."""
    out = []
    for freeze in allocation.bank_requests.filter(purpose__in=purposes, status="SUCCESS").order_by("pk"):
        taken = (allocation.bank_requests.filter(pre_request_no=freeze.request_no, purpose__in=OUT_OF_FREEZES)
                 .exclude(status__in=NOT_MOVED).aggregate(total=Sum("amount"))["total"] or 0)
        out.append((freeze, freeze.amount - taken))
    return out


def settlement_propose(*, operator, allocation_id: int, final_total_assets: object) -> Settlement:
    """Propose the settlement of a terminating (or liquidated) allocation from the
    sub-account's final total assets; the parts are ``domain.settle``'s."""
    require(operator, PROPOSE)
    if type(final_total_assets) is not int or final_total_assets < 0:
        raise Invalid(_("Give the final total assets as a whole number of fen, not negative."),
                      code="invalid_final_total_assets")
    with transaction.atomic():
        allocation = locked(allocation_id)
        if allocation.status == domain.LIQUIDATION:
            move(allocation, domain.TERMINATION_REQUESTED, actor=operator, note=_("forced close confirmed"))
        if allocation.status != domain.TERMINATION_REQUESTED:
            raise Conflict(_("The allocation is %(status)s: there is nothing to settle.")
                           % {"status": allocation.status_label()}, code="bad_status")
        try:
            parts = domain.settle(final_total_assets=final_total_assets, total_capital=allocation.total_capital,
                                  deposit_frozen=allocation.deposit_frozen,
                                  risk_fund_frozen=allocation.risk_fund_frozen, arrears=allocation.arrears)
        except domain.RuleError as exc:
            raise invalid(exc) from exc
        settlement = Settlement.objects.create(
            allocation=allocation, final_total_assets=final_total_assets, total_capital=allocation.total_capital,
            proposed_by=operator, **{name: getattr(parts, name) for name in (
                "settle", "payout", "loss_from_deposit", "loss_from_risk_fund", "loss_debt", "arrears_from_deposit",
                "arrears_from_risk_fund", "arrears_unpaid", "release_deposit", "release_risk_fund")})
        move(allocation, domain.SETTLEMENT_PROPOSED, actor=operator)
        Request.objects.filter(allocation=allocation, kind=domain.TERMINATION, status=domain.R_PENDING).update(
            status=domain.R_APPROVED, decided_by=operator, decided_at=timezone.now())
        audit_record(actor=operator, action=AuditAction.SETTLEMENT_PROPOSE, target=allocation, before=None,
                     after={"final_total_assets": final_total_assets, "settle": parts.settle})
    return settlement


def _locked_settlement(settlement_id: int) -> tuple[Settlement, Allocation]:
    found = Settlement.objects.filter(pk=settlement_id).values_list("allocation_id", flat=True).first()
    if found is None:
        raise NotFound(_("No such settlement."), code="not_found")
    allocation = locked(found)  # the allocation first: the global lock order
    return Settlement.objects.select_for_update().get(pk=settlement_id), allocation


def _take(allocation: Allocation, amount: int, freezes: list[tuple[BankRequest, int]], *, purpose: str,
          biz_type: str, payee: str) -> None:
    """Transfer ``amount`` out of ``freezes`` in order, each at most what remains of it."""
    for index, (freeze, remaining) in enumerate(freezes):
        part = min(amount, remaining)
        if part <= 0:
            continue
        bank_request(allocation, purpose, service_name="TRANSFER", amount=part, pre_request_no=freeze.request_no,
                     payload={"bizType": biz_type, "payer": allocation.customer.user_no, "payee": payee,
                              "amount": part, "preRequestNo": freeze.request_no}, prefix="WXAS")
        freezes[index] = (freeze, remaining - part)
        amount -= part
    if amount:  # pragma: no cover - domain.settle never takes more than is frozen
        raise Conflict("the freezes do not cover the settlement", code="freezes")


def settlement_approve(*, checker, settlement_id: int) -> Settlement:
    """The finance officer approves: the bank moves the money (see the module docstring)."""
    require(checker, APPROVE)
    with transaction.atomic():
        settlement, allocation = _locked_settlement(settlement_id)
        if settlement.status != Settlement.Status.PROPOSED or allocation.status != domain.SETTLEMENT_PROPOSED:
            raise Conflict(_("This settlement is not waiting for approval."), code="bad_status")
        # Not the proposer, nor an operator the proposer created or gave the role (the
        # database CHECK still guards the first).
        checker_independence_require(maker_id=settlement.proposed_by_id, checker=checker, permission=APPROVE)
        Settlement.objects.filter(pk=settlement.pk).update(status=Settlement.Status.APPROVED, approved_by=checker,
                                                           decided_at=timezone.now())
        deposit, risk = _freezes(allocation, DEPOSIT_FREEZES), _freezes(allocation, (Purpose.RISK_FUND,))
        _take(allocation, settlement.loss_from_deposit, deposit, purpose=Purpose.LOSS, biz_type="ALLOCATION_SETTLE",
              payee=PLATFORM_CAPITAL)
        _take(allocation, settlement.loss_from_risk_fund, risk, purpose=Purpose.LOSS, biz_type="ALLOCATION_SETTLE",
              payee=PLATFORM_CAPITAL)
        _take(allocation, settlement.arrears_from_deposit, deposit, purpose=Purpose.ARREARS,
              biz_type="ALLOCATION_FEE", payee=PLATFORM_INCOME)
        _take(allocation, settlement.arrears_from_risk_fund, risk, purpose=Purpose.ARREARS,
              biz_type="ALLOCATION_FEE", payee=PLATFORM_INCOME)
        if settlement.payout:
            bank_request(allocation, Purpose.SETTLE, service_name="TRANSFER", amount=settlement.payout,
                         payload={"bizType": "ALLOCATION_SETTLE", "payer": PLATFORM_CAPITAL,
                                  "payee": allocation.customer.user_no, "amount": settlement.payout}, prefix="WXAS")
        # What stays owed: the loss beyond both freezes, and arrears beyond them.
        if settlement.loss_debt:
            Allocation.objects.filter(pk=allocation.pk).update(debt=allocation.debt + settlement.loss_debt)
            FundRecord.objects.create(allocation=allocation, kind=FundRecord.Kind.DEBT, amount=-settlement.loss_debt,
                                      actor=checker)
        Allocation.objects.filter(pk=allocation.pk).update(arrears=settlement.arrears_unpaid)
        settlement_progress(allocation)
        audit_record(actor=checker, action=AuditAction.SETTLEMENT_APPROVE, target=allocation, before=None,
                     after={"settlement": settlement.pk, "settle": settlement.settle})
    settlement.refresh_from_db()
    return settlement


def settlement_reject(*, checker, settlement_id: int, reason: str) -> Settlement:
    """Send the proposal back to the maker (the allocation waits for a new one)."""
    require(checker, APPROVE)
    with transaction.atomic():
        settlement, allocation = _locked_settlement(settlement_id)
        if settlement.status != Settlement.Status.PROPOSED:
            raise Conflict(_("This settlement is not waiting for approval."), code="bad_status")
        Settlement.objects.filter(pk=settlement.pk).update(status=Settlement.Status.REJECTED, note=reason[:300],
                                                           decided_at=timezone.now())
        move(allocation, domain.TERMINATION_REQUESTED, actor=checker, note=reason)
    settlement.refresh_from_db()
    return settlement


def settlement_retry(*, operator, settlement_id: int) -> list[BankRequest]:
    """Ask the bank again, each under a new requestNo, for every settlement transfer or
    release of an approved settlement that it refused (after the cause is fixed, e.g. the
    customer authorised the biz type or PLATFORM_CAPITAL was funded). Idempotent: once
    retried, a refused request is RETRIED and a second click finds nothing to retry."""
    require(operator, APPROVE)
    with transaction.atomic():
        settlement, allocation = _locked_settlement(settlement_id)
        if settlement.status != Settlement.Status.APPROVED or allocation.status != domain.SETTLEMENT_PROPOSED:
            raise Conflict(_("This settlement is not waiting for the bank."), code="bad_status")
        refused = list(allocation.bank_requests.filter(purpose__in=(*SETTLING, Purpose.RELEASE), status="FAIL")
                       .order_by("pk"))
        if not refused:
            raise Conflict(_("The bank refused none of this settlement's transfers or releases: nothing to retry."),
                           code="nothing_to_retry")
        issued = []
        for old in refused:
            BankRequest.objects.filter(pk=old.pk).update(status=RETRIED)
            if old.purpose == Purpose.RELEASE:
                continue  # settlement_progress below releases what remains of its freeze again
            record = depository.refused_request(old.request_no)
            issued.append(bank_request(allocation, old.purpose, service_name=record.service_name,
                                       amount=old.amount, pre_request_no=old.pre_request_no,
                                       payload=record.payload, prefix="WXAS"))
        before = set(allocation.bank_requests.values_list("pk", flat=True))
        settlement_progress(allocation)
        issued += list(allocation.bank_requests.exclude(pk__in=before))
        audit_record(actor=operator, action=AuditAction.SETTLEMENT_RETRY, target=allocation, before=None,
                     after={"refused": [r.request_no for r in refused], "issued": [r.request_no for r in issued]})
    return issued


def settlement_progress(allocation: Allocation) -> None:
    """Called under the allocation's lock after approval and after each settlement result:
    once nothing is being taken out of a freeze, release what remains of each; once nothing
    is at the bank, the allocation is SETTLED. A refused transfer holds everything (its
    money is still frozen) until operators act on it."""
    allocation.refresh_from_db(fields=["status", "sub_account"])
    if allocation.status != domain.SETTLEMENT_PROPOSED:
        return
    requests = allocation.bank_requests
    if requests.filter(purpose__in=SETTLING).exclude(status__in=("SUCCESS", RETRIED)).exists():
        return
    issued = False
    for freeze, remaining in _freezes(allocation, (*DEPOSIT_FREEZES, Purpose.RISK_FUND)):
        released = requests.filter(purpose=Purpose.RELEASE, pre_request_no=freeze.request_no).exclude(
            status__in=NOT_MOVED)
        if remaining > 0 and not released.exists():
            release_issue(allocation, freeze, remaining)
            issued = True
    if issued or requests.filter(status="PENDING").exists():
        return
    move(allocation, domain.SETTLED)
    Settlement.objects.filter(allocation=allocation, status=Settlement.Status.APPROVED).update(
        status=Settlement.Status.DONE)
    if allocation.sub_account_id:
        # Back to the operators: the customer knows its password, so it is not reused as is.
        SubAccount.objects.filter(pk=allocation.sub_account_id).update(status=SubAccount.Status.RETIRED)
