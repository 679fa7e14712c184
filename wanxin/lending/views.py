"""Pages under /loans/: the financing hall, a loan's detail with the schedule preview,
investing with a confirmation of expected returns, applying; and the operators' review,
cancel and maker-checker disbursement pages under /loans/review/."""

from __future__ import annotations

import re
import secrets

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wanxin.audit.guards import customer_required, require_operator_permission
from wanxin.core.errors import NotFound, WanxinError
from wanxin.funds.domain import fen_to_yuan_text

from . import domain, labels, selectors, services
from .forms import (
    ApplicationForm,
    HallForm,
    InvestForm,
    ReasonForm,
    TermsForm,
    error_list,
    percent_text,
)
from .models import Disbursement, Project

REVIEW = "backoffice.review_loans"
APPROVE = "backoffice.approve_disbursement"
PAGE_SIZE = 20
BID_ID = re.compile(r"[0-9]{1,18}")


def _error(form, exc: WanxinError) -> None:
    form.add_error(exc.code if exc.code in form.fields else None, exc.message)


# -- customers ------------------------------------------------------------------------------------


@require_GET
def hall(request: HttpRequest) -> HttpResponse:
    form = HallForm(request.GET or None)
    page = selectors.hall_page(form.filters(), PAGE_SIZE, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "lending/hall.html", {"form": form, "page": page, "query": query.urlencode(),
                                                 "errors": error_list(form)})


def _public(project_id: int) -> Project:
    project = selectors.public_project(project_id)
    if project is None:
        raise Http404(_("No such loan."))
    return project


@require_GET
def detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _public(project_id)
    query = request.GET.copy()
    query.pop("bid", None)  # the bid being confirmed is not a preview amount
    form = InvestForm(query or None)
    amount = form.cleaned_data["amount"] if form.is_valid() else (project.min_investment or project.amount)
    try:
        preview = selectors.schedule_preview(project, amount)
    except ValueError as exc:
        form.add_error(None, _(str(exc)))
        preview = []
    return render(request, "lending/detail.html", {
        "project": project, "tenders": selectors.masked_tenders(project), "preview": preview,
        "preview_amount": amount, "form": form, "errors": error_list(form) if form.is_bound else [],
        "bid": _bid_progress(request, project),
    })


def _bid_progress(request: HttpRequest, project: Project) -> dict | None:
    """The investor's own bid on this loan named by ``?bid=`` (after placing it), or None."""
    bid = request.GET.get("bid", "")
    if not BID_ID.fullmatch(bid) or not request.user.is_authenticated:  # ASCII digits, a bigint
        return None
    tender = selectors.tender_owned(request.user, int(bid))
    return labels.tender_progress(tender) if tender is not None and tender.project_id == project.pk else None


@customer_required
@require_GET
def tender_status(request: HttpRequest, tender_id: int) -> JsonResponse:
    """The bid's progress as JSON, polled by the loan page; the investor's own only."""
    tender = selectors.tender_owned(request.user, tender_id)
    if tender is None:
        raise Http404(_("No such investment."))
    return JsonResponse(labels.tender_progress(tender), headers={"Cache-Control": "no-store"})


@customer_required
@require_http_methods(["GET", "POST"])
def invest(request: HttpRequest, project_id: int) -> HttpResponse:
    """GET ?amount=<yuan>: check the bid and show its expected returns; POST: place it."""
    project = _public(project_id)
    form = InvestForm(request.POST if request.method == "POST" else request.GET)
    quote = None
    if form.is_valid():
        amount = form.cleaned_data["amount"]
        try:
            if request.method == "POST":
                tender = services.tender_place_once(investor=request.user, project_id=project.pk, amount=amount,
                                                    token=form.cleaned_data["token"])
                # The loan page follows the bid: "confirming" until the bank answers (site.js).
                return redirect(f"{reverse('lending:detail', args=[project.pk])}?bid={tender.pk}")
            services.tender_check(investor=request.user, project_id=project.pk, amount=amount)
            quote = selectors.quote(project, amount)
        except WanxinError as exc:
            _error(form, exc)
    return render(request, "lending/invest.html", {"project": project, "form": form, "quote": quote,
                                                   "errors": error_list(form), "token": secrets.token_urlsafe(16)})


@customer_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None)
    next_step = None  # a link to what the refusal asks for (qualifications, an account)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.application_submit(borrower=request.user, data=services.ApplicationInput(
                amount=d["amount"], months=d["months"], method=d["method"], purpose=d["purpose"],
                description=d["description"]))
        except WanxinError as exc:
            _error(form, exc)
            if exc.code == "no_kyc":
                next_step = (reverse("kyc:status"), _("Go to my qualifications"))
            elif exc.code == "no_account":
                next_step = ("/funds/", _("Open my depository account"))
        else:
            messages.success(request, _("Your application was sent for review."))
            return redirect("lending:mine")
    return render(request, "lending/apply.html", {
        "form": form, "product": selectors.product_default(), "limit": selectors.borrowing_limit(request.user),
        "errors": error_list(form), "next_step": next_step, "kyc_url": reverse("kyc:status")})


@customer_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    return render(request, "lending/mine.html", {
        "projects": selectors.projects_of(request.user)[:50], "tenders": selectors.tenders_of(request.user)[:100]})


# -- operators ------------------------------------------------------------------------------------


@require_GET
@require_operator_permission(REVIEW)
def review_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    page = Paginator(selectors.review_queue(status), 25).get_page(request.GET.get("page"))
    return render(request, "lending/review_queue.html", {
        "page": page, "status": status, "statuses": [(s, labels.status_label(s)) for s in domain.PROJECT_STATUSES]})


def _product_terms() -> dict:
    """The product's terms as the form takes them: percent with at most 4 decimals (the stored
    ``0.120000`` pre-filled as ``12.000000`` was refused by the form's own 4-decimal rule)."""
    p = selectors.product_default()
    return {"borrower_rate": percent_text(p.borrower_rate), "investor_rate": percent_text(p.investor_rate),
            "service_fee_rate": percent_text(p.service_fee_rate), "window_days": p.window_days,
            "min_investment": fen_to_yuan_text(p.min_investment), "increment": fen_to_yuan_text(p.increment),
            "per_investor_cap": fen_to_yuan_text(p.per_investor_cap)}


def _review_page(request, project: Project, *, terms_form=None, status=200) -> HttpResponse:
    return render(request, "lending/review_detail.html", {
        "project": project, "terms_form": terms_form or TermsForm(initial=_product_terms()),
        "tenders": project.tenders.select_related("investor").order_by("id"),
        "disbursements": selectors.disbursements_of(project),
        "terms_errors": error_list(terms_form) if terms_form is not None else [],
    }, status=status)


def _project(project_id: int) -> Project:
    project = Project.objects.select_related("borrower", "application").filter(pk=project_id).first()
    if project is None:
        raise Http404(_("No such loan."))
    return project


@require_GET
@require_operator_permission(REVIEW)
def review_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    return _review_page(request, _project(project_id))


@require_POST
@require_operator_permission(REVIEW)
def review_approve(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(project_id)
    form = TermsForm(request.POST)
    if form.is_valid():
        try:
            project = services.project_approve(operator=request.user, project_id=project.pk, terms=form.terms())
        except WanxinError as exc:
            _error(form, exc)
        else:
            if project.status == domain.COLLECTING:
                messages.success(request, _("%(loan)s is collecting investments.") % {"loan": project.project_no})
            else:
                messages.warning(request, _("Approved; waiting for the bank to register the loan."))
            return redirect("lending:review-detail", project_id=project.pk)
    return _review_page(request, project, terms_form=form, status=400)


def _act(request: HttpRequest, project_id: int, action, done: str) -> HttpResponse:
    try:
        action()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("lending:review-detail", project_id=project_id)


def _reason(request: HttpRequest) -> str:
    form = ReasonForm(request.POST)
    return form.cleaned_data["reason"] if form.is_valid() else ""


@require_POST
@require_operator_permission(REVIEW)
def review_reject(request: HttpRequest, project_id: int) -> HttpResponse:
    reason = _reason(request)
    return _act(request, project_id, lambda: services.project_reject(
        operator=request.user, project_id=project_id, reason=reason), _("Rejected; the borrower was told by SMS."))


@require_POST
@require_operator_permission(REVIEW)
def review_cancel(request: HttpRequest, project_id: int) -> HttpResponse:
    reason = _reason(request)
    return _act(request, project_id, lambda: services.project_miscarry(
        operator=request.user, project_id=project_id, reason=reason), _("Cancelled; the investments are unfrozen."))


@require_POST
@require_operator_permission(REVIEW)
def review_propose(request: HttpRequest, project_id: int) -> HttpResponse:
    return _act(request, project_id, lambda: services.disbursement_propose(
        operator=request.user, project_id=project_id), _("Disbursement proposed; a finance officer must approve it."))


@require_GET
@require_operator_permission(APPROVE)
def disbursements(request: HttpRequest) -> HttpResponse:
    return render(request, "lending/disbursements.html", {"proposals": selectors.pending_disbursements()})


def _decide(request: HttpRequest, disbursement_id: int, action, done: str) -> HttpResponse:
    if not Disbursement.objects.filter(pk=disbursement_id).exists():
        raise Http404(_("No such disbursement."))
    try:
        action()
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("lending:disbursements")


@require_POST
@require_operator_permission(APPROVE)
def disbursement_approve(request: HttpRequest, disbursement_id: int) -> HttpResponse:
    return _decide(request, disbursement_id, lambda: services.disbursement_approve(
        operator=request.user, disbursement_id=disbursement_id), _("Approved and sent to the bank."))


@require_POST
@require_operator_permission(APPROVE)
def disbursement_reject(request: HttpRequest, disbursement_id: int) -> HttpResponse:
    reason = _reason(request)
    return _decide(request, disbursement_id, lambda: services.disbursement_reject(
        operator=request.user, disbursement_id=disbursement_id, reason=reason), _("Proposal rejected."))
