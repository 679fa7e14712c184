"""Writes of the kyc app: declarations, uploads, submission and operator review."""

from __future__ import annotations

from typing import IO, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.accounts.models import User
from wanxin.audit.actions import AuditAction
from wanxin.audit.guards import customer_require, operator_require
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.core.identity import IdentityError, parse_resident_id
from wanxin.fields import blind_index
from wanxin.funds import selectors as funds_selectors
from wanxin.i18n import translated

from . import domain, storage
from .models import KycApplication, KycDocument, KycReview


class Upload(Protocol):
    """What an uploaded file offers (Django's ``UploadedFile`` does)."""

    name: str | None
    size: int | None

    def read(self, size: int = -1) -> bytes: ...
    def seek(self, offset: int, whence: int = 0) -> int: ...
    def chunks(self, chunk_size: int | None = None): ...


def _invalid(exc: Exception, code: str) -> WanxinError:
    return WanxinError(translated(exc), code=code)


def _customer_check(customer: User) -> None:
    customer_require(customer, _("Only customers have qualifications."), code="forbidden")


def _editable_application(customer: User) -> KycApplication:
    """The customer's application, locked, created as a draft if there is none."""
    _customer_check(customer)
    KycApplication.objects.get_or_create(customer=customer)
    application = KycApplication.objects.select_for_update().get(customer=customer)
    if not application.editable:
        if application.status == domain.Status.SUBMITTED:
            raise Conflict(_("Your application is being reviewed; it cannot be changed now."), code="not_editable")
        raise Conflict(_("Your application has been approved; it cannot be changed now."), code="not_editable")
    return application


def _active_documents(application: KycApplication):
    return KycDocument.objects.filter(application=application, removed_at__isnull=True)


def known_identity(customer: User) -> tuple[str, str] | None:
    """The name and ID number the customer gave when opening the depository account: the bank
    holds the account in that name, so qualifications use it rather than asking again."""
    account = funds_selectors.account_for(customer)
    if account is None or not account.is_open or not (account.full_name and account.id_number):
        return None
    return account.full_name, account.id_number


def application_declare(*, customer: User, annual_income: int, assets: int, real_name: str = "",
                        id_number: str = "") -> KycApplication:
    """Record the customer's identity and declared income and assets (draft or rejected only).
    With an open depository account the identity is the account's, whatever was typed."""
    known = known_identity(customer)
    if known is not None:
        real_name, id_number = known
    try:
        real_name = domain.check_real_name(real_name)
        annual_income = domain.check_amount(annual_income)
        assets = domain.check_amount(assets)
    except domain.KycError as exc:
        raise _invalid(exc, "invalid_declaration") from exc
    id_number = id_number.strip().upper()
    try:
        parse_resident_id(id_number, today=timezone.localdate())
    except IdentityError as exc:
        raise _invalid(exc, "invalid_id_number") from exc
    with transaction.atomic():
        application = _editable_application(customer)
        application.real_name, application.id_number = real_name, id_number
        application.id_number_index = blind_index(id_number)
        application.annual_income, application.assets = annual_income, assets
        application.save(update_fields=["real_name", "id_number", "id_number_index", "annual_income", "assets",
                                        "updated_at"])
    return application


def _clean_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:120]


def document_upload(*, customer: User, kind: str, upload: Upload) -> KycDocument:
    """Store a qualification document after checking its content. A new ID card side
    replaces the current one; other kinds accumulate up to ``KYC_MAX_DOCUMENTS``."""
    _customer_check(customer)
    filename = _clean_name(upload.name or "")
    upload.seek(0)
    head = upload.read(domain.SNIFF_BYTES)
    upload.seek(0)
    try:
        content_type = domain.check_upload(kind=kind, filename=filename, size=upload.size or 0, head=head,
                                           max_bytes=settings.KYC_MAX_UPLOAD_BYTES)
    except domain.KycError as exc:
        raise _invalid(exc, "invalid_document") from exc
    name = None
    try:
        with transaction.atomic():
            application = _editable_application(customer)
            active = _active_documents(application)
            replaced = active.filter(kind=kind) if kind in domain.SINGLE_KINDS else active.none()
            if active.count() - replaced.count() >= settings.KYC_MAX_DOCUMENTS:
                raise Conflict(_("An application holds at most %(count)d documents; remove one first.")
                               % {"count": settings.KYC_MAX_DOCUMENTS}, code="too_many_documents")
            name, size, sha256 = storage.save(upload.chunks(), content_type=content_type)
            if size != upload.size or size > settings.KYC_MAX_UPLOAD_BYTES:
                raise WanxinError(_("The file changed while it was uploaded; please try again."),
                                  code="invalid_document")
            replaced.update(removed_at=timezone.now())
            document = KycDocument.objects.create(
                application=application, kind=kind, storage_name=name, content_type=content_type, size=size,
                sha256=sha256, original_name=filename)
            KycApplication.objects.filter(pk=application.pk).update(updated_at=timezone.now())
    except BaseException:
        if name is not None:  # the row never committed: the file must not outlive it
            storage.delete(name)
        raise
    return document


def document_remove(*, customer: User, document_id: int) -> KycDocument:
    with transaction.atomic():
        application = _editable_application(customer)
        document = _active_documents(application).filter(pk=document_id).first()
        if document is None:
            raise NotFound(_("No such document."), code="not_found")
        document.removed_at = timezone.now()
        document.save(update_fields=["removed_at"])
    return document


def application_submit(*, customer: User) -> KycApplication:
    """Send the application for review (from draft, or again after a rejection)."""
    with transaction.atomic():
        application = _editable_application(customer)
        kinds = set(_active_documents(application).values_list("kind", flat=True))
        problems = domain.submission_problems(real_name=application.real_name, id_number=application.id_number,
                                              annual_income=application.annual_income, assets=application.assets,
                                              kinds=kinds)
        if problems:
            raise WanxinError(" ".join(_(problem) for problem in problems), code="incomplete")
        if (KycApplication.objects.filter(id_number_index=application.id_number_index,
                                          status__in=[domain.Status.SUBMITTED, domain.Status.APPROVED])
                .exclude(pk=application.pk).exists()):
            raise Conflict(_("This ID number is already verified or under review for another account."),
                           code="id_number_in_use")
        application.status = domain.Status.SUBMITTED
        application.submitted_at = timezone.now()
        application.submission_count += 1
        application.save(update_fields=["status", "submitted_at", "submission_count", "updated_at"])
    return application


# -- operator review ----------------------------------------------------------------------

REASON_MAX = 500


def _review_state(application: KycApplication) -> dict:
    return {"status": application.status, "rating": application.rating, "credit_limit": application.credit_limit,
            "reason": application.review_reason}


def _reviewable(*, operator: User, application_id: int) -> KycApplication:
    operator_require(operator, "review_kyc", _("You do not have permission to review qualifications."))
    application = KycApplication.objects.select_for_update().filter(pk=application_id).first()
    if application is None:
        raise NotFound(_("No such application."), code="not_found")
    if application.status != domain.Status.SUBMITTED:
        raise Conflict(_("This application is %(status)s, not awaiting review.")
                       % {"status": application.get_status_display().lower()}, code="not_submitted")
    return application


_ACTIONS = {domain.Status.APPROVED: AuditAction.KYC_APPROVE, domain.Status.REJECTED: AuditAction.KYC_REJECT}


def _decide(application: KycApplication, *, operator: User, decision: str, reason: str, before: dict,
            ) -> KycApplication:
    now = timezone.now()
    application.status = decision
    application.reviewed_at, application.reviewed_by, application.review_reason = now, operator, reason
    application.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_reason", "rating",
                                    "rating_score", "credit_limit", "updated_at"])
    KycReview.objects.create(application=application, decision=decision, reason=reason, reviewer=operator,
                             rating=application.rating, credit_limit=application.credit_limit, created_at=now)
    audit_record(actor=operator, action=_ACTIONS[decision], target=application, before=before,
                 after=_review_state(application))
    return application


def application_approve(*, operator: User, application_id: int, reason: str = "") -> KycApplication:
    """Approve a submitted application: rate it from the declarations and the documents
    held, and set the borrowing limit. Audited."""
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise WanxinError(_("A reason has at most %(count)d characters.") % {"count": REASON_MAX},
                          code="invalid_reason")
    try:
        with transaction.atomic():
            application = _reviewable(operator=operator, application_id=application_id)
            before = _review_state(application)
            kinds = set(_active_documents(application).values_list("kind", flat=True))
            assessment = domain.assess_credit(annual_income=application.annual_income, assets=application.assets,
                                              kinds=kinds)
            application.rating, application.rating_score = assessment.rating, assessment.score
            application.credit_limit = assessment.limit
            return _decide(application, operator=operator, decision=domain.Status.APPROVED, reason=reason,
                           before=before)
    except IntegrityError as exc:
        if "kyc_one_approved_per_id_number" in str(exc):
            raise Conflict(_("This ID number is already verified for another account."),
                           code="id_number_in_use") from exc
        raise


def application_reject(*, operator: User, application_id: int, reason: str) -> KycApplication:
    """Reject a submitted application with a reason the customer will read. Audited."""
    reason = reason.strip()
    if not reason:
        raise WanxinError(_("A reason is required to reject an application."), code="reason_required")
    if len(reason) > REASON_MAX:
        raise WanxinError(_("A reason has at most %(count)d characters.") % {"count": REASON_MAX},
                          code="invalid_reason")
    with transaction.atomic():
        application = _reviewable(operator=operator, application_id=application_id)
        before = _review_state(application)
        application.rating, application.rating_score, application.credit_limit = "", None, None
        return _decide(application, operator=operator, decision=domain.Status.REJECTED, reason=reason,
                       before=before)


# -- reading files ------------------------------------------------------------------------


def document_open_for_owner(*, customer: User, document_id: int) -> tuple[KycDocument, IO[bytes]]:
    """The customer's own active document and its content; anyone else's is not found."""
    document = KycDocument.objects.filter(pk=document_id, application__customer_id=customer.pk,
                                          removed_at__isnull=True).first()
    if document is None or customer.is_operator:
        raise NotFound(_("No such document."), code="not_found")
    return document, storage.open_file(document.storage_name)


def document_open_for_reviewer(*, operator: User, document_id: int) -> tuple[KycDocument, IO[bytes]]:
    """Any document (removed ones too, for the history) to a reviewer. Each view is audited."""
    operator_require(operator, "review_kyc", _("You do not have permission to view qualification documents."))
    document = KycDocument.objects.filter(pk=document_id).first()
    if document is None:
        raise NotFound(_("No such document."), code="not_found")
    handle = storage.open_file(document.storage_name)
    audit_record(actor=operator, action=AuditAction.KYC_DOCUMENT_VIEW, target=document, before=None,
                 after={"application": document.application_id, "kind": document.kind})
    return document, handle
