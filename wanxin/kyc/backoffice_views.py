"""Reviewer pages under /backoffice/kyc/: queue, detail with documents, approve, reject."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from wanxin.audit.guards import require_operator_permission
from wanxin.core.errors import NotFound, WanxinError

from . import selectors, services
from .forms import ReviewForm
from .models import KycApplication
from .views import document_response

REVIEW = "backoffice.review_kyc"
PAGE_SIZE = 25


@require_GET
@require_operator_permission(REVIEW)
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", KycApplication.Status.SUBMITTED)
    if status not in KycApplication.Status.values:
        status = ""
    query = request.GET.get("q", "")
    page = Paginator(selectors.review_queue(status=status, query=query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "kyc/backoffice/queue.html", {
        "page": page, "status": status, "q": query, "statuses": KycApplication.Status.choices,
    })


@require_GET
@require_operator_permission(REVIEW)
def detail(request: HttpRequest, application_id: int) -> HttpResponse:
    application = selectors.application_for_review(application_id)
    if application is None:
        raise Http404("No such application.")
    return render(request, "kyc/backoffice/detail.html", {
        "application": application, "documents": list(application.documents.all()),
        "reviews": list(application.reviews.all()), "preview": selectors.credit_preview(application),
        "form": ReviewForm(),
    })


def _decide(request: HttpRequest, application_id: int, action) -> HttpResponse:
    form = ReviewForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else request.POST.get("reason", "")
    try:
        application = action(operator=request.user, application_id=application_id, reason=reason)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except WanxinError as exc:
        messages.error(request, exc.message)
        return redirect("backoffice:kyc:detail", application_id=application_id)
    messages.success(request, f"Application #{application.pk} {application.get_status_display().lower()}.")
    return redirect("backoffice:kyc:queue")


@require_POST
@require_operator_permission(REVIEW)
def approve(request: HttpRequest, application_id: int) -> HttpResponse:
    return _decide(request, application_id, services.application_approve)


@require_POST
@require_operator_permission(REVIEW)
def reject(request: HttpRequest, application_id: int) -> HttpResponse:
    return _decide(request, application_id, services.application_reject)


@require_GET
@require_operator_permission(REVIEW)
def document(request: HttpRequest, document_id: int) -> HttpResponse:
    try:
        found, handle = services.document_open_for_reviewer(operator=request.user, document_id=document_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return document_response(found, handle)
