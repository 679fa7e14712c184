"""Customer pages under /kyc/: declarations, uploads, submission, status and reasons."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from wanxin.audit.guards import customer_page
from wanxin.core.errors import NotFound, WanxinError
from wanxin.core.identity import mask_id_number

from . import domain, selectors, services
from .forms import DeclarationForm, UploadForm
from .models import KycDocument

# Operators are pointed to the reviewers' pages of the back office.
customer_required = customer_page("kyc/operators_elsewhere.html")


def document_response(document: KycDocument, handle) -> FileResponse:
    """Stream a private document: never cached, never sniffed, shown inline in a sandbox."""
    response = FileResponse(handle, content_type=document.content_type)
    response["Content-Disposition"] = f'inline; filename="document-{document.pk}{domain.EXTENSIONS[document.content_type][0]}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
    return response


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@never_cache
@require_GET
@customer_required
def status_page(request: HttpRequest) -> HttpResponse:
    application = selectors.application_for_customer(request.user)
    initial = {}
    if application is not None and application.annual_income is not None:
        # The ID number is never sent back in full, not even to its owner: re-enter it to change.
        initial = {"real_name": application.real_name,
                   "annual_income": _yuan(application.annual_income), "assets": _yuan(application.assets)}
    identity = services.known_identity(request.user)
    return render(request, "kyc/status.html", {
        "application": application,
        "editable": application is None or application.editable,
        "declaration_form": DeclarationForm(initial=initial, ask_identity=identity is None),
        "identity_known": {"full_name": identity[0], "masked_id_number": mask_id_number(identity[1])}
        if identity else None,
        "upload_form": UploadForm(),
        "documents": application.active_documents if application else [],
        "reviews": list(application.reviews.all()) if application else [],
        "max_mb": settings.KYC_MAX_UPLOAD_BYTES // (1024 * 1024),
    })


def _refused(request: HttpRequest, exc: WanxinError) -> HttpResponse:
    messages.error(request, exc.message)
    return redirect("kyc:status")


@require_POST
@customer_required
def declare(request: HttpRequest) -> HttpResponse:
    form = DeclarationForm(request.POST, ask_identity=services.known_identity(request.user) is None)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))  # label translated
        return redirect("kyc:status")
    try:
        services.application_declare(customer=request.user, **form.cleaned_data)
    except WanxinError as exc:
        return _refused(request, exc)
    messages.success(request, _("Your declarations are saved."))
    return redirect("kyc:status")


@require_POST
@customer_required
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a document kind and a file."))
        return redirect("kyc:status")
    try:
        document = services.document_upload(customer=request.user, kind=form.cleaned_data["kind"],
                                            upload=form.cleaned_data["file"])
    except WanxinError as exc:
        return _refused(request, exc)
    messages.success(request, _("%(kind)s uploaded.") % {"kind": document.kind_label})
    return redirect("kyc:status")


@require_POST
@customer_required
def remove(request: HttpRequest, document_id: int) -> HttpResponse:
    try:
        services.document_remove(customer=request.user, document_id=document_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except WanxinError as exc:
        return _refused(request, exc)
    messages.success(request, _("Document removed."))
    return redirect("kyc:status")


@require_POST
@customer_required
def submit(request: HttpRequest) -> HttpResponse:
    try:
        services.application_submit(customer=request.user)
    except WanxinError as exc:
        return _refused(request, exc)
    messages.success(request, _("Your application is submitted; we will review it shortly."))
    return redirect("kyc:status")


@require_GET
@customer_required
def document(request: HttpRequest, document_id: int) -> HttpResponse:
    try:
        found, handle = services.document_open_for_owner(customer=request.user, document_id=document_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return document_response(found, handle)
