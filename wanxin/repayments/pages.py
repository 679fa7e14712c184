"""Customer pages under /repayments/ (the borrower's plans with Repay and prepayment, the
investor's portfolio) and the operators' pages: the overdue list at /loans/review/overdue
and the releases the bank refused at /loans/review/releases."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wanxin.audit.guards import (
    customer_required,
    require_any_operator_permission,
    require_operator_permission,
)
from wanxin.charts.data import Series, bar_chart
from wanxin.core.errors import WanxinError
from wanxin.core.money import format_fen
from wanxin.lending import services as lending_services

from . import selectors, services

OVERDUE_PERMISSIONS = ("backoffice.review_loans", "backoffice.manage_risk_rules")


@require_GET
@customer_required
def plans(request: HttpRequest) -> HttpResponse:
    loans = []
    for project in selectors.borrower_projects(request.user):
        try:
            quote = services.prepay_quote(project=project) if project.status == "REPAYING" else None
        except WanxinError:
            quote = None
        loans.append({"project": project, "rows": selectors.plan_rows(selectors.plans_of(project)), "quote": quote})
    return render(request, "repayments/plans.html", {"loans": loans})


@require_http_methods(["GET", "POST"])
@customer_required
def repay(request: HttpRequest, plan_id: int) -> HttpResponse:
    """GET: what is about to be paid (the loan by name, the period, the amount) and a button
    to confirm; POST: pay it."""
    if request.method == "GET":
        plan = selectors.plan_for_borrower(request.user, plan_id)
        if plan is None:
            raise Http404(_("No such repayment period."))
        row = next(r for r in selectors.plan_rows(selectors.plans_of(plan.project)) if r.plan.pk == plan.pk)
        if not row.payable:
            messages.error(request, _("Only the next unpaid period can be repaid now."))
            return redirect("repay:plans")
        return render(request, "repayments/repay_confirm.html", {"plan": plan, "project": plan.project})
    try:
        repayment = services.repay_start(borrower=request.user, plan_id=plan_id)
        repayment.refresh_from_db()
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _outcome(repayment))
    return redirect("repay:plans")


@require_POST
@customer_required
def prepay(request: HttpRequest, project_id: int) -> HttpResponse:
    try:
        repayment = services.prepay_start(borrower=request.user, project_id=project_id)
        repayment.refresh_from_db()
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _outcome(repayment))
    return redirect("repay:plans")


def _outcome(repayment) -> str:
    if repayment.status == "DONE":
        return _("Repaid %(amount)s.") % {"amount": format_fen(repayment.total)}
    if repayment.status == "FAILED":
        return _("The bank refused the repayment: %(reason)s") % {"reason": repayment.fail_reason}
    return _("Repayment of %(amount)s sent to the bank; it completes shortly.") % {
        "amount": format_fen(repayment.total)}


@require_GET
@customer_required
def portfolio(request: HttpRequest) -> HttpResponse:
    p = selectors.portfolio(request.user)
    # The calendar as a picture: per month, received (green) beside expected (blue).
    chart = bar_chart([m.month for m in p.calendar], [
        Series(_("Received"), [m.received for m in p.calendar], color="#1e7e34"),
        Series(_("Expected"), [m.amount for m in p.calendar], color="#3b82f6")])
    return render(request, "repayments/portfolio.html", {"p": p, "chart": chart})


@require_GET
@require_any_operator_permission(*OVERDUE_PERMISSIONS)
def overdue_review(request: HttpRequest) -> HttpResponse:
    buckets = selectors.overdue(timezone.localdate())
    return render(request, "repayments/overdue.html", {
        "buckets": buckets, "totals": selectors.overdue_totals(buckets)})


RELEASE_PERMISSION = "backoffice.approve_disbursement"


@require_GET
@require_operator_permission(RELEASE_PERMISSION)
def releases_refused(request: HttpRequest) -> HttpResponse:
    """Money the bank would not release: a finance officer retries once the cause is known."""
    return render(request, "repayments/releases.html", {"rows": selectors.releases_refused()})


@require_POST
@require_operator_permission(RELEASE_PERMISSION)
def release_retry(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    object_id = int(object_id)
    retry = {"tender": lambda: lending_services.tender_release_retry(operator=request.user, tender_id=object_id),
             "repayment": lambda: services.release_retry(operator=request.user, repayment_id=object_id)}[kind]
    try:
        owner = retry()
    except WanxinError as exc:
        if exc.status == 403:
            return render(request, "backoffice/forbidden.html", {"missing": [RELEASE_PERMISSION]}, status=403)
        messages.error(request, exc.message)
    else:
        text = (_("Release of the tender sent to the bank again as %(request)s.") if kind == "tender"
                else _("Release of the repayment sent to the bank again as %(request)s."))
        messages.success(request, text % {"request": owner.cancel_request_no})
    return redirect("loans-releases")
