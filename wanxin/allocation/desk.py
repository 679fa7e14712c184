"""The allocation operators' desk under /allocation/desk/: the queues (at risk nearest the
liquidation line first, reviews, today's missing statuses, requests, terminations,
settlements to approve), one allocation's page with its chart and every action on it.
Each action is a service call; refusals come back as messages."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wanxin.audit.guards import require_any_operator_permission, require_operator_permission
from wanxin.core import money
from wanxin.core.errors import NotFound, WanxinError
from wanxin.i18n import translated

from . import domain, selectors, services
from .chart import assets_chart
from .errors import invalid
from .models import CallRecord, Request, Settlement

REVIEW = "backoffice.review_allocations"
APPROVE = "backoffice.settle_allocation"  # settlements move money: the finance officer's permission
MAX_YUAN_FEN = 10**15


# Allocation operators, and finance officers (who approve settlements), may read the desk.
_desk_reader = require_any_operator_permission(REVIEW, APPROVE)


@require_GET
@_desk_reader
def queues(request: HttpRequest) -> HttpResponse:
    return render(request, "allocation/desk/queues.html", {"q": selectors.desk_queues(), "today": selectors.today()})


@require_GET
@_desk_reader
def allocation(request: HttpRequest, allocation_id: int) -> HttpResponse:
    try:
        found = selectors.desk_allocation(allocation_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    statuses = list(found.daily_statuses.order_by("day"))
    chart = assets_chart([(s.day, s.total_assets) for s in statuses], warning_line=found.warning_line,
                         liquidation_line=found.liquidation_line) if statuses else None
    return render(request, "allocation/desk/allocation.html", {
        "a": found, "calls": found.calls.select_related("operator").order_by("-called_at"), "statuses": statuses,
        "chart": chart, "records": selectors.fund_dynamics(found), "outcomes": CallRecord.Outcome.choices,
        "sub_accounts": selectors.available_sub_accounts(),
        "requests": found.requests.order_by("-created_at"),
        "settlements": found.settlements.order_by("-created_at"),
        "refused": found.bank_requests.filter(purpose__in=(*services.SETTLING, "RELEASE"), status="FAIL").count(),
        "running": found.status in domain.RUNNING,
        "today": selectors.today(),
    })


def _act(request: HttpRequest, allocation_id: int, action, done: str) -> HttpResponse:
    try:
        action()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("allocation:desk-allocation", allocation_id)


def _fen(request: HttpRequest, name: str, *, signed: bool = False) -> int:
    """An amount typed in yuan, zero allowed (refused as a message naming the field)."""
    try:
        return money.parse_yuan(request.POST.get(name, ""), maximum=MAX_YUAN_FEN,
                                minimum=-MAX_YUAN_FEN if signed else 0)
    except money.AmountError as exc:
        raise WanxinError(f"{name}: {translated(exc)}", code=f"invalid_{name}") from exc


@require_POST
@require_operator_permission(REVIEW)
def call(request: HttpRequest, allocation_id: int) -> HttpResponse:
    return _act(request, allocation_id, lambda: services.call_record(
        operator=request.user, allocation_id=allocation_id, outcome=request.POST.get("outcome", ""),
        note=request.POST.get("note", "")), _("Call recorded."))


@require_POST
@require_operator_permission(REVIEW)
def approve(request: HttpRequest, allocation_id: int) -> HttpResponse:
    def act() -> None:
        try:
            sub_account = int(request.POST.get("sub_account", ""))
        except ValueError:
            raise WanxinError(_("Choose an available sub-account from the pool."), code="invalid_sub_account") from None
        services.allocation_approve(operator=request.user, allocation_id=allocation_id, sub_account_id=sub_account)

    return _act(request, allocation_id, act, _("Approved; the sub-account is assigned."))


@require_POST
@require_operator_permission(REVIEW)
def reject(request: HttpRequest, allocation_id: int) -> HttpResponse:
    return _act(request, allocation_id, lambda: services.allocation_reject(
        operator=request.user, allocation_id=allocation_id, reason=request.POST.get("reason", "")),
        _("Rejected; the deposit and risk fund are unfrozen and the fee refunded."))


@require_POST
@require_operator_permission(REVIEW)
def status(request: HttpRequest, allocation_id: int) -> HttpResponse:
    def act() -> None:
        try:
            day = domain.parse_date(request.POST.get("day"), "day") or selectors.today()
        except domain.RuleError as exc:
            raise invalid(exc) from exc
        services.status_record(operator=request.user, allocation_id=allocation_id, status=domain.AccountStatus(
            day=day, total_assets=_fen(request, "total_assets"), market_value=_fen(request, "market_value"),
            available_cash=_fen(request, "available_cash"), profit_loss=_fen(request, "profit_loss", signed=True)))

    return _act(request, allocation_id, act, _("Status recorded."))


@require_POST
@require_operator_permission(REVIEW)
def statuses_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise WanxinError(_("Choose a CSV file."), code="invalid_csv")
        result = services.statuses_import(operator=request.user, data=upload.read(5_000_000))
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)s statuses recorded.") % {"n": result.recorded})
    return redirect("allocation:desk")


@require_POST
@require_operator_permission(REVIEW)
def propose(request: HttpRequest, allocation_id: int) -> HttpResponse:
    return _act(request, allocation_id, lambda: services.settlement_propose(
        operator=request.user, allocation_id=allocation_id, final_total_assets=_fen(request, "final_total_assets")),
        _("Settlement proposed; a finance officer approves it."))


def _allocation_of(model, pk: int, missing: str) -> int:
    """The allocation a settlement or a request belongs to (where the desk returns), or 404."""
    allocation_id = model.objects.filter(pk=pk).values_list("allocation_id", flat=True).first()
    if allocation_id is None:
        raise Http404(missing)
    return allocation_id


def _settlement_allocation(settlement_id: int) -> int:
    return _allocation_of(Settlement, settlement_id, _("No such settlement."))


@require_POST
@require_operator_permission(APPROVE)
def settlement_approve(request: HttpRequest, settlement_id: int) -> HttpResponse:
    return _act(request, _settlement_allocation(settlement_id), lambda: services.settlement_approve(
        checker=request.user, settlement_id=settlement_id), _("Settlement approved and sent to the bank."))


@require_POST
@require_operator_permission(APPROVE)
def settlement_reject(request: HttpRequest, settlement_id: int) -> HttpResponse:
    return _act(request, _settlement_allocation(settlement_id), lambda: services.settlement_reject(
        checker=request.user, settlement_id=settlement_id, reason=request.POST.get("reason", "")),
        _("Settlement sent back."))


@require_POST
@require_operator_permission(APPROVE)
def settlement_retry(request: HttpRequest, settlement_id: int) -> HttpResponse:
    return _act(request, _settlement_allocation(settlement_id), lambda: services.settlement_retry(
        operator=request.user, settlement_id=settlement_id), _("Refused requests sent to the bank again."))


def _request_allocation(request_id: int) -> int:
    return _allocation_of(Request, request_id, _("No such request."))


@require_POST
@require_operator_permission(REVIEW)
def request_approve(request: HttpRequest, request_id: int) -> HttpResponse:
    return _act(request, _request_allocation(request_id), lambda: services.request_approve(
        operator=request.user, request_id=request_id), _("Request approved."))


@require_POST
@require_operator_permission(REVIEW)
def request_reject(request: HttpRequest, request_id: int) -> HttpResponse:
    return _act(request, _request_allocation(request_id), lambda: services.request_reject(
        operator=request.user, request_id=request_id, reason=request.POST.get("reason", "")), _("Request rejected."))
