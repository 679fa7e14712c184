"""Review by an allocation operator: the phone call, approval with a trading sub-account
(within the platform's exposure limit), rejection (everything unfrozen, the fee refunded),
and the customer revealing their sub-account password.

Approval asks the bank for PLATFORM_CAPITAL's available balance first (a request may not be
sent inside a transaction), then decides under a transaction-wide advisory lock, so two
approvals never both fit under the same limit. Lock order: allocation, then sub-account."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, WanxinError
from wanxin.depository import services as depository

from .. import domain, selectors
from ..errors import Invalid, invalid
from ..models import Allocation, CallRecord, SubAccount
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

PERMISSION = "review_allocations"
EXPOSURE_LOCK = 0x414C4C4F  # "ALLO": one approval decides at a time
REVIEWABLE = (domain.DEPOSIT_PAID, domain.PAID)


def _state(allocation: Allocation) -> dict:
    return {"status": allocation.status, "deposit_frozen": allocation.deposit_frozen,
            "risk_fund_frozen": allocation.risk_fund_frozen, "sub_account": allocation.sub_account_id}


def call_record(*, operator, allocation_id: int, outcome: str, note: str = "",
                called_at: dt.datetime | None = None) -> CallRecord:
    """Record the phone call to the customer (when, outcome, note)."""
    require(operator, PERMISSION)
    called_at = called_at or timezone.now()
    if outcome not in CallRecord.Outcome.values:
        raise Invalid(_("Choose the outcome of the call."), code="invalid_outcome")
    if called_at > timezone.now() + dt.timedelta(minutes=1):
        raise Invalid(_("A call cannot be recorded in the future."), code="invalid_called_at")
    if len(note) > 300:
        raise Invalid(_("The note has at most 300 characters."), code="invalid_note")
    with transaction.atomic():
        allocation = locked(allocation_id)
        if allocation.status not in REVIEWABLE:
            raise Conflict(_("The allocation is %(status)s: there is nothing to review.")
                           % {"status": allocation.status_label()}, code="bad_status")
        call = CallRecord.objects.create(allocation=allocation, operator=operator, called_at=called_at,
                                         outcome=outcome, note=note)
        audit_record(actor=operator, action=AuditAction.ALLOCATION_CALL, target=allocation, before=None,
                     after={"outcome": outcome, "called_at": called_at.isoformat()})
    return call


def exposure_share() -> Decimal:
    try:
        return Decimal(str(settings.ALLOCATION_EXPOSURE_SHARE))
    except InvalidOperation as exc:  # pragma: no cover - a configuration error
        raise WanxinError("ALLOCATION_EXPOSURE_SHARE is not a decimal", code="configuration", status=500) from exc


def capital_available() -> int:
    """PLATFORM_CAPITAL's available balance, asked of the bank now."""
    record = depository.direct_call(service_name="QUERY_BALANCE", payload={"userNo": PLATFORM_CAPITAL})
    if record.status != record.Status.SUCCESS:
        raise Conflict(_("The bank did not tell the platform capital's balance; try again."), code="bank_unavailable",
                       status=503)
    return int(record.response["available"])


def committed_capital(*, excluding: int) -> int:
    """Σ allocated of allocations not settled (paid and beyond), but for ``excluding``."""
    total = (Allocation.objects.filter(status__in=domain.COMMITTED).exclude(pk=excluding)
             .aggregate(total=Sum("allocated"))["total"])
    return int(total or 0)


def allocation_approve(*, operator, allocation_id: int, sub_account_id: int,
                       now: dt.datetime | None = None) -> Allocation:
    """Approve a paid allocation after a call that reached the customer: assign the
    sub-account, fix the trading start (today before 14:45 on a trading day, else the next
    trading day) and end; refused beyond the exposure limit, with the figures."""
    require(operator, PERMISSION)
    now = now or timezone.now()
    capital = capital_available()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EXPOSURE_LOCK])
        allocation = locked(allocation_id)
        before = _state(allocation)
        if allocation.status != domain.PAID:
            raise Conflict(_("Only a paid allocation (deposit and risk fund frozen) can be approved; this one is "
                             "%(status)s.") % {"status": allocation.status_label()}, code="bad_status")
        if not allocation.calls.filter(outcome=CallRecord.Outcome.CONFIRMED).exists():
            raise Conflict(_("Record a call in which the customer confirmed before approving."), code="no_call")
        try:
            domain.check_exposure(committed=committed_capital(excluding=allocation.pk), requested=allocation.allocated,
                                  capital_available=capital, share=exposure_share())
        except domain.RuleError as exc:
            raise invalid(exc, status=409) from exc
        account = SubAccount.objects.select_for_update().filter(pk=sub_account_id).first()
        if account is None or account.status != SubAccount.Status.AVAILABLE:
            raise Invalid(_("Choose an available sub-account from the pool."), code="invalid_sub_account",
                          status=409)
        today = now.astimezone(domain.BEIJING).date()
        calendar = selectors.trading_calendar(today)
        start = domain.trading_start(now, calendar)
        end = domain.end_date(allocation.product_type, start, allocation.duration, calendar)
        SubAccount.objects.filter(pk=account.pk).update(status=SubAccount.Status.ASSIGNED)
        move(allocation, domain.APPROVED, actor=operator, sub_account=account, start_date=start, end_date=end,
             reviewed_by=operator, approved_at=now)
        if start == today:
            move(allocation, domain.IN_PROGRESS, note=_("trading starts today"))
        audit_record(actor=operator, action=AuditAction.ALLOCATION_APPROVE, target=allocation, before=before,
                     after=_state(allocation))
    return allocation


def allocations_start(*, today: dt.date | None = None) -> int:
    """Move approved allocations whose trading day has come to IN_PROGRESS (run at the open)."""
    today = today or selectors.today()
    started = 0
    for pk in Allocation.objects.filter(status=domain.APPROVED, start_date__lte=today).values_list("pk", flat=True):
        with transaction.atomic():
            allocation = locked(pk)
            if allocation.status == domain.APPROVED:
                move(allocation, domain.IN_PROGRESS)
                started += 1
    return started


def allocation_reject(*, operator, allocation_id: int, reason: str) -> Allocation:
    """Reject before trading: every freeze released and the fee refunded through the bank."""
    require(operator, PERMISSION)
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise Invalid(_("Give the reason (at most 300 characters)."), code="invalid_reason")
    with transaction.atomic():
        allocation = locked(allocation_id)
        before = _state(allocation)
        if allocation.status not in REVIEWABLE:
            raise Conflict(_("The allocation is %(status)s: it cannot be rejected.")
                           % {"status": allocation.status_label()}, code="bad_status")
        if allocation.bank_requests.filter(status="PENDING").exists():
            raise Conflict(_("A payment of this allocation is still at the bank; try again in a moment."),
                           code="pending")
        move(allocation, domain.REJECTED, actor=operator, note=reason)
        for freeze in allocation.bank_requests.filter(purpose__in=[Purpose.DEPOSIT, Purpose.RISK_FUND],
                                                      status="SUCCESS").order_by("pk"):
            release_issue(allocation, freeze, freeze.amount)
        if allocation.fees_paid:
            bank_request(allocation, Purpose.FEE_REFUND, service_name="TRANSFER", amount=allocation.fees_paid,
                         payload={"bizType": "ALLOCATION_FEE", "payer": PLATFORM_INCOME,
                                  "payee": allocation.customer.user_no, "amount": allocation.fees_paid},
                         prefix="WXAR")
        audit_record(actor=operator, action=AuditAction.ALLOCATION_REJECT, target=allocation, before=before,
                     after={**_state(allocation), "reason": reason})
    return allocation


def sub_account_reveal(*, customer, allocation_id: int, password: str) -> SubAccount:
    """The sub-account and its password, to its owner, after they re-enter their login password."""
    customer_only(customer)
    with transaction.atomic():
        allocation = owned_locked(customer, allocation_id)
        if allocation.sub_account_id is None:
            raise Conflict(_("No trading sub-account is assigned to this allocation yet."), code="no_sub_account")
        if not password or not customer.check_password(password):
            raise WanxinError(_("Enter your login password to see the sub-account password."),
                              code="invalid_password", status=403)
        return SubAccount.objects.get(pk=allocation.sub_account_id)
