"""JSON API of the kyc app.

``router`` (customers, mounted at /api/v1/kyc/) and ``operator_router`` (reviewers,
mounted by the back office at /api/v1/backoffice/kyc/). Amounts are integer fen; ID
numbers are always masked; names are masked in lists."""

import datetime as dt
from typing import Annotated

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate
from pydantic import StrictInt

from wanxin.accounts.auth import customer_auth
from wanxin.audit.guards import operator_auth
from wanxin.core import identity
from wanxin.core.errors import NotFound
from wanxin.core.money import MAX_AMOUNT_FEN

from . import selectors, services
from .models import KycApplication, KycDocument
from .views import document_response

router = Router(tags=["kyc"], auth=customer_auth)
operator_router = Router(tags=["backoffice: kyc"], auth=operator_auth("backoffice.review_kyc"))

Fen = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT_FEN)]


class DocumentOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    uploaded_at: dt.datetime


class ReviewOut(Schema):
    decision: str
    reason: str
    created_at: dt.datetime


class ApplicationOut(Schema):
    status: str
    real_name: str
    id_number_masked: str
    annual_income: int | None
    assets: int | None
    submitted_at: dt.datetime | None
    submission_count: int
    review_reason: str
    rating: str
    credit_limit: int | None
    documents: list[DocumentOut]
    reviews: list[ReviewOut]


class DeclareIn(Schema):
    real_name: str = Field(max_length=40)
    id_number: str = Field(max_length=18)
    annual_income: Fen
    assets: Fen


def _document_out(d: KycDocument) -> dict:
    return {"id": d.pk, "kind": d.kind, "content_type": d.content_type, "size": d.size, "uploaded_at": d.uploaded_at}


def _application_out(application: KycApplication | None) -> dict:
    if application is None:
        return {"status": "NONE", "real_name": "", "id_number_masked": "", "annual_income": None, "assets": None,
                "submitted_at": None, "submission_count": 0, "review_reason": "", "rating": "",
                "credit_limit": None, "documents": [], "reviews": []}
    documents = getattr(application, "active_documents", None)
    if documents is None:
        documents = list(application.documents.filter(removed_at__isnull=True))
    return {
        "status": application.status, "real_name": application.real_name,
        "id_number_masked": identity.mask_id_number(application.id_number) if application.id_number else "",
        "annual_income": application.annual_income, "assets": application.assets,
        "submitted_at": application.submitted_at, "submission_count": application.submission_count,
        "review_reason": application.review_reason, "rating": application.rating,
        "credit_limit": application.credit_limit, "documents": [_document_out(d) for d in documents],
        "reviews": [{"decision": r.decision, "reason": r.reason, "created_at": r.created_at}
                    for r in application.reviews.order_by("-id")],
    }


def _own(request: HttpRequest) -> dict:
    return _application_out(selectors.application_for_customer(request.auth))


@router.get("/application", response=ApplicationOut, summary="My KYC application (status NONE before the first step)")
def application_get(request):
    return _own(request)


@router.put("/application", response=ApplicationOut, summary="Declare identity, income and assets (fen)")
def application_declare(request, payload: DeclareIn):
    services.application_declare(customer=request.auth, **payload.dict())
    return _own(request)


@router.post("/application/submit", response=ApplicationOut, summary="Submit (or resubmit) for review")
def application_submit(request):
    services.application_submit(customer=request.auth)
    return _own(request)


@router.post("/documents", response={201: DocumentOut},
             summary=f"Upload a document (JPEG, PNG or PDF; at most {settings.KYC_MAX_UPLOAD_BYTES} bytes)")
def document_upload(request, kind: Form[str], file: File[UploadedFile]):
    document = services.document_upload(customer=request.auth, kind=kind, upload=file)
    return Status(201, _document_out(document))


@router.get("/documents/{document_id}", summary="Download one of my documents")
def document_get(request, document_id: int):
    document, handle = services.document_open_for_owner(customer=request.auth, document_id=document_id)
    return document_response(document, handle)


@router.delete("/documents/{document_id}", response={204: None}, summary="Remove one of my documents")
def document_delete(request, document_id: int):
    services.document_remove(customer=request.auth, document_id=document_id)
    return Status(204, None)


# -- reviewers ----------------------------------------------------------------------------


class QueueItemOut(Schema):
    id: int
    customer_id: int
    username: str
    real_name_masked: str
    status: str
    submitted_at: dt.datetime | None
    submission_count: int

    @staticmethod
    def resolve_username(obj: KycApplication) -> str:
        return obj.customer.username

    @staticmethod
    def resolve_real_name_masked(obj: KycApplication) -> str:
        return identity.mask_name(obj.real_name)


class ReviewDetailOut(Schema):
    decision: str
    reason: str
    reviewer: str
    rating: str
    credit_limit: int | None
    created_at: dt.datetime


class OperatorDocumentOut(DocumentOut):
    removed_at: dt.datetime | None


class CreditPreviewOut(Schema):
    score: int
    rating: str
    limit: int
    breakdown: dict[str, int]


class ApplicationDetailOut(Schema):
    id: int
    customer_id: int
    username: str
    mobile_masked: str
    status: str
    real_name: str
    id_number_masked: str
    annual_income: int | None
    assets: int | None
    submitted_at: dt.datetime | None
    submission_count: int
    rating: str
    rating_score: int | None
    credit_limit: int | None
    review_reason: str
    documents: list[OperatorDocumentOut]
    reviews: list[ReviewDetailOut]
    preview: CreditPreviewOut | None


class DecisionIn(Schema):
    reason: str = Field("", max_length=500)


@operator_router.get("/applications", response=list[QueueItemOut], summary="Review queue (oldest first)")
@paginate(PageNumberPagination, page_size=25)
def queue(request, status: str = KycApplication.Status.SUBMITTED, q: str = ""):
    return selectors.review_queue(status=status if status in KycApplication.Status.values else "", query=q)


def _detail(application_id: int) -> dict:
    a = selectors.application_for_review(application_id)
    if a is None:
        raise NotFound("No such application.", code="not_found")
    preview = selectors.credit_preview(a)
    return {
        "id": a.pk, "customer_id": a.customer_id, "username": a.customer.username,
        "mobile_masked": identity.mask_mobile(a.customer.mobile or ""), "status": a.status,
        "real_name": a.real_name,
        "id_number_masked": identity.mask_id_number(a.id_number) if a.id_number else "",
        "annual_income": a.annual_income, "assets": a.assets, "submitted_at": a.submitted_at,
        "submission_count": a.submission_count, "rating": a.rating, "rating_score": a.rating_score,
        "credit_limit": a.credit_limit, "review_reason": a.review_reason,
        "documents": [{**_document_out(d), "removed_at": d.removed_at} for d in a.documents.all()],
        "reviews": [{"decision": r.decision, "reason": r.reason, "reviewer": r.reviewer.username, "rating": r.rating,
                     "credit_limit": r.credit_limit, "created_at": r.created_at} for r in a.reviews.all()],
        "preview": preview.__dict__ if preview is not None else None,
    }


@operator_router.get("/applications/{application_id}", response=ApplicationDetailOut)
def detail(request, application_id: int):
    return _detail(application_id)


@operator_router.post("/applications/{application_id}/approve", response=ApplicationDetailOut,
                      summary="Approve: rates the application and sets the borrowing limit")
def approve(request, application_id: int, payload: DecisionIn):
    services.application_approve(operator=request.auth, application_id=application_id, reason=payload.reason)
    return _detail(application_id)


@operator_router.post("/applications/{application_id}/reject", response=ApplicationDetailOut,
                      summary="Reject with a reason (required)")
def reject(request, application_id: int, payload: DecisionIn):
    services.application_reject(operator=request.auth, application_id=application_id, reason=payload.reason)
    return _detail(application_id)


@operator_router.get("/documents/{document_id}", summary="Download a document (audited)")
def document(request, document_id: int):
    found, handle = services.document_open_for_reviewer(operator=request.auth, document_id=document_id)
    return document_response(found, handle)
