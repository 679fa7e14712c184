"""Requests a running allocation takes, each reviewed by an allocation operator and
recorded in its history (one open request of each kind at a time, a partial unique
constraint): a margin top-up (more deposit frozen, lines recomputed), a profit withdrawal
(paid from PLATFORM_CAPITAL after the operator has reduced the sub-account's cash) and the
extension of a monthly allocation by whole months. A money request's bank request is
issued on approval; ``results.py`` completes it."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound
from wanxin.core.money import MAX_AMOUNT_FEN, format_fen

from .. import domain, selectors
from ..errors import Invalid, invalid
from ..models import Allocation, Request
from .common import (
    PLATFORM_CAPITAL,
    Purpose,
    bank_request,
    customer_only,
    freeze_issue,
    locked,
    open_account,
    owned_locked,
    require,
)
from .review import EXPOSURE_LOCK, capital_available, committed_capital, exposure_share

PERMISSION = "review_allocations"
MONEY_KINDS = (domain.TOP_UP, domain.PROFIT_WITHDRAWAL, domain.INCREASE)
MAX_EXTENSION_MONTHS = 12


def extension_apply(*, customer, allocation_id: int, months: object) -> Request:
    """The customer asks to extend a running MONTHLY allocation by whole months."""
    customer_only(customer)
    if type(months) is not int or not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise Invalid(_("Extend by 1 to %(n)s whole months.") % {"n": MAX_EXTENSION_MONTHS}, code="invalid_months")
    with transaction.atomic():
        allocation = owned_locked(customer, allocation_id)
        if allocation.status not in domain.RUNNING or allocation.product_type != domain.MONTHLY:
            raise Conflict(_("Only a running monthly allocation can be extended."), code="bad_status")
        try:
            with transaction.atomic():
                return Request.objects.create(allocation=allocation, kind=domain.EXTENSION, months=months)
        except IntegrityError as exc:
            raise Conflict(_("A request of this kind is already open on this allocation."),
                           code="request_open") from exc


def _extend(operator, request: Request, allocation: Allocation) -> None:
    """More months: the schedule goes on from the original start (its anniversaries), the
    end moves; the fee run charges the new months on their dates."""
    duration = allocation.duration + request.months
    end = domain.end_date(allocation.product_type, allocation.start_date, duration,
                          selectors.trading_calendar(allocation.start_date))
    Allocation.objects.filter(pk=allocation.pk).update(duration=duration, end_date=end, updated_at=timezone.now())
    Request.objects.filter(pk=request.pk).update(status=domain.R_DONE, decided_by=operator, decided_at=timezone.now(),
                                                 note=f"→ {end.isoformat()}")


def _amount(value: object) -> int:
    if type(value) is not int or not 0 < value <= MAX_AMOUNT_FEN:
        raise Invalid(_("Give a positive whole number of fen."), code="invalid_amount")
    return value


def request_apply(*, customer, allocation_id: int, kind: str, amount: object) -> Request:
    """The customer asks for a margin top-up or a profit withdrawal of ``amount`` fen."""
    customer_only(customer)
    if kind not in MONEY_KINDS:
        raise Invalid(_("Choose a margin top-up, an increase or a profit withdrawal."), code="invalid_kind")
    value = _amount(amount)
    account = open_account(customer)
    with transaction.atomic():
        allocation = owned_locked(customer, allocation_id)
        if allocation.status not in domain.RUNNING:
            raise Conflict(_("The allocation is %(status)s: it takes no requests now.")
                           % {"status": allocation.status_label()}, code="bad_status")
        if kind == domain.INCREASE and allocation.deposit + value > allocation.product.deposit_max:
            raise Invalid(_("The deposit would be above the product's maximum of %(max)s.")
                          % {"max": format_fen(allocation.product.deposit_max)}, code="invalid_amount")
        if kind in (domain.TOP_UP, domain.INCREASE) and account.available < value:
            raise Conflict(_("Your available balance is %(available)s.") % {"available": format_fen(account.available)},
                           code="insufficient_balance")
        if kind == domain.PROFIT_WITHDRAWAL:
            try:
                domain.check_profit_withdrawal(value, total_assets=allocation.latest_total_assets or 0,
                                               total_capital=allocation.total_capital)
            except domain.RuleError as exc:
                raise invalid(exc) from exc
        try:
            with transaction.atomic():
                return Request.objects.create(allocation=allocation, kind=kind, amount=value)
        except IntegrityError as exc:
            raise Conflict(_("A request of this kind is already open on this allocation."),
                           code="request_open") from exc


_APPROVED = {domain.TOP_UP: AuditAction.ALLOCATION_TOP_UP_APPROVE, domain.INCREASE: AuditAction.ALLOCATION_INCREASE_APPROVE,
             domain.PROFIT_WITHDRAWAL: AuditAction.ALLOCATION_PROFIT_WITHDRAWAL_APPROVE}


def _locked_request(request_id: int) -> tuple[Request, Allocation]:
    allocation_id = Request.objects.filter(pk=request_id).values_list("allocation_id", flat=True).first()
    if allocation_id is None:
        raise NotFound(_("No such request."), code="not_found")
    allocation = locked(allocation_id)  # the allocation first: the global lock order
    return Request.objects.select_for_update().get(pk=request_id), allocation


def request_approve(*, operator, request_id: int) -> Request:
    """Approve a pending request: the top-up is frozen, the withdrawal paid (the operator
    confirms the sub-account's cash was reduced by approving)."""
    require(operator, PERMISSION)
    increase = Request.objects.filter(pk=request_id, kind=domain.INCREASE).exists()
    capital = capital_available() if increase else 0  # asked of the bank before the transaction
    with transaction.atomic():
        if increase:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EXPOSURE_LOCK])
        request, allocation = _locked_request(request_id)
        if request.status != domain.R_PENDING or request.kind not in (*MONEY_KINDS, domain.EXTENSION):
            raise Conflict(_("This request is not waiting for approval."), code="bad_status")
        if allocation.status not in domain.RUNNING:
            raise Conflict(_("The allocation is %(status)s: it takes no requests now.")
                           % {"status": allocation.status_label()}, code="bad_status")
        if request.kind == domain.EXTENSION:
            _extend(operator, request, allocation)
            audit_record(actor=operator, action=AuditAction.ALLOCATION_EXTENSION_APPROVE, target=allocation, before=None,
                         after={"request": request.pk, "months": request.months})
            request.refresh_from_db()
            return request
        if request.kind == domain.TOP_UP:
            owned = freeze_issue(allocation, Purpose.TOP_UP, request.amount)
        elif request.kind == domain.INCREASE:
            try:
                domain.check_exposure(committed=committed_capital(excluding=allocation.pk),
                                      requested=allocation.allocated + request.amount * allocation.multiple,
                                      capital_available=capital, share=exposure_share())
            except domain.RuleError as exc:
                raise invalid(exc, status=409) from exc
            owned = freeze_issue(allocation, Purpose.INCREASE, request.amount)
        else:
            try:
                domain.check_profit_withdrawal(request.amount, total_assets=allocation.latest_total_assets or 0,
                                               total_capital=allocation.total_capital)
            except domain.RuleError as exc:
                raise invalid(exc, status=409) from exc
            owned = bank_request(allocation, Purpose.PROFIT, service_name="TRANSFER", amount=request.amount,
                                 payload={"bizType": "ALLOCATION_SETTLE", "payer": PLATFORM_CAPITAL,
                                          "payee": allocation.customer.user_no, "amount": request.amount},
                                 prefix="WXAP")
        domain.check_move(domain.REQUEST_MOVES, request.status, domain.R_APPROVED)
        Request.objects.filter(pk=request.pk).update(status=domain.R_APPROVED, decided_by=operator,
                                                     decided_at=timezone.now(), bank_request_no=owned.request_no)
        audit_record(actor=operator, action=_APPROVED[request.kind], target=allocation,
                     before=None, after={"request": request.pk, "amount": request.amount})
    request.refresh_from_db()
    return request


def request_reject(*, operator, request_id: int, reason: str) -> Request:
    require(operator, PERMISSION)
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise Invalid(_("Give the reason (at most 300 characters)."), code="invalid_reason")
    with transaction.atomic():
        request, allocation = _locked_request(request_id)
        if request.status != domain.R_PENDING:
            raise Conflict(_("This request is not waiting for approval."), code="bad_status")
        Request.objects.filter(pk=request.pk).update(status=domain.R_REJECTED, decided_by=operator,
                                                     decided_at=timezone.now(), note=reason)
        audit_record(actor=operator, action=AuditAction.ALLOCATION_REQUEST_REJECT, target=allocation, before=None,
                     after={"request": request.pk, "reason": reason})
    request.refresh_from_db()
    return request


def request_for(bank_request_no: str) -> Request | None:
    return Request.objects.select_for_update().filter(bank_request_no=bank_request_no).first()
