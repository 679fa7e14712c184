"""Customer pages under /repayments/ (the borrower's plans with Repay and prepayment, the
investor's portfolio) and the operators' pages: the overdue list at /loans/review/overdue
and the releases the bank refused at /loans/review/releases."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from wanxin.accounts.auth import customer_required
from wanxin.backoffice.access import require_operator
from wanxin.core.errors import WanxinError
from wanxin.core.money import format_fen
from wanxin.funds import domain as funds_domain
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
        loans.append({"project": project, "plans": selectors.plans_of(project), "quote": quote})
    return render(request, "repayments/plans.html", {"loans": loans})


@require_POST
@customer_required
def repay(request: HttpRequest, plan_id: int) -> HttpResponse:
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
        return f"Repaid {format_fen(repayment.total)}."
    if repayment.status == "FAILED":
        return f"The bank refused the repayment: {repayment.fail_reason}"
    return f"Repayment of {format_fen(repayment.total)} sent to the bank; it completes shortly."


@require_GET
@customer_required
def portfolio(request: HttpRequest) -> HttpResponse:
    p = selectors.portfolio(request.user)
    # The calendar as a picture: per month, received (green) beside expected (blue).
    chart = funds_domain.monthly_chart([(m.month, m.received, m.amount) for m in p.calendar])
    return render(request, "repayments/portfolio.html", {
        "p": p, "chart": chart, "tick_labels": [(y, funds_domain.short_yuan(v)) for y, v in chart.ticks]})


@require_GET
@require_operator
def overdue_review(request: HttpRequest) -> HttpResponse:
    if not any(request.user.has_perm(p) for p in OVERDUE_PERMISSIONS):
        return render(request, "backoffice/forbidden.html", {"missing": list(OVERDUE_PERMISSIONS)}, status=403)
    buckets = selectors.overdue(timezone.localdate())
    return render(request, "repayments/overdue.html", {
        "buckets": buckets, "totals": selectors.overdue_totals(buckets)})


RELEASE_PERMISSION = "backoffice.approve_disbursement"


@require_GET
@require_operator
def releases_refused(request: HttpRequest) -> HttpResponse:
    """Money the bank would not release: a finance officer retries once the cause is known."""
    if not request.user.has_perm(RELEASE_PERMISSION):
        return render(request, "backoffice/forbidden.html", {"missing": [RELEASE_PERMISSION]}, status=403)
    return render(request, "repayments/releases.html", {"rows": selectors.releases_refused()})


@require_POST
@require_operator
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
        messages.success(request, f"Release of the {kind} sent to the bank again as {owner.cancel_request_no}.")
    return redirect("loans-releases")
