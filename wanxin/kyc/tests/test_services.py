"""KYC services against PostgreSQL: exact state after each step, nothing changed after a refusal."""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.db import connection, connections
from django.db import transaction as db_transaction

from wanxin.audit import roles
from wanxin.audit.guards import Forbidden
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f
from wanxin.backoffice.tests.fixtures import stored_files
from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.fields import blind_index
from wanxin.kyc import services
from wanxin.kyc.models import KycApplication, KycDocument, KycReview

from .helpers import ID_NUMBER, complete, declared, id_number, state, submitted

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (KycApplication.objects.count(), KycDocument.objects.count(), KycReview.objects.count(),
            AuditLog.objects.count())


# -- declarations -------------------------------------------------------------------------


def test_declaration_is_stored_encrypted_with_a_blind_index():
    customer = f.customer()
    application = declared(customer)
    application = KycApplication.objects.get(pk=application.pk)
    assert (application.status, application.real_name, application.id_number, application.annual_income,
            application.assets) == ("DRAFT", "张三丰", ID_NUMBER, 30_000_000, 150_000_000)
    assert application.id_number_index == blind_index(ID_NUMBER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT real_name, id_number FROM kyc_kycapplication WHERE id = %s", [application.pk])
        raw_name, raw_id = cursor.fetchone()
    assert ID_NUMBER not in raw_id and "张三丰" not in raw_name


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"id_number": "110105199003071238"}, "This ID number's check character is wrong; please check for typos."),
    ({"id_number": id_number(birth="20190101")}, "Customers must be at least 18 years old."),
    ({"id_number": "11010519901301123X"}, "The birth date inside this ID number does not exist."),
    ({"id_number": "12345"}, "An ID number has 18 characters: 17 digits and a digit or X."),
    ({"annual_income": -1}, "An amount must be a whole number of fen, zero or more."),
    ({"assets": 10**15 + 1}, "This amount is too large."),
    ({"real_name": "R2D2"}, "Enter your real name as on your ID card (2 to 40 characters, no digits)."),
])
def test_bad_declarations_are_refused_and_change_nothing(kwargs, message):
    customer = f.customer()
    args = {"real_name": "张三丰", "id_number": ID_NUMBER, "annual_income": 1, "assets": 1, **kwargs}
    with pytest.raises(WanxinError) as refused:
        services.application_declare(customer=customer, **args)
    assert refused.value.message == message
    assert counts() == (0, 0, 0, 0)


def test_operators_have_no_qualifications():
    with pytest.raises(Forbidden):
        declared(f.reviewer())
    assert counts() == (0, 0, 0, 0)


# -- uploads ------------------------------------------------------------------------------


def test_upload_is_stored_privately_under_a_random_name(private_media):
    customer = f.customer()
    document = services.document_upload(customer=customer, kind="BANK_STATEMENT", upload=f.pdf("张三 march.pdf"))
    document.refresh_from_db()
    [path] = stored_files(private_media)
    assert path.read_bytes() == f.PDF
    assert path.name == document.storage_name.rsplit("/", 1)[-1]
    assert path.suffix == ".pdf" and len(path.stem) == 32 and "march" not in document.storage_name
    assert path.stat().st_mode & 0o777 == 0o600
    assert (document.kind, document.content_type, document.size, document.sha256, document.original_name,
            document.removed_at) == ("BANK_STATEMENT", "application/pdf", len(f.PDF),
                                     hashlib.sha256(f.PDF).hexdigest(), "张三 march.pdf", None)
    assert KycApplication.objects.get(customer=customer).status == "DRAFT"


def test_upload_name_is_reduced_to_its_base_name():
    document = services.document_upload(customer=f.customer(), kind="INCOME_PROOF",
                                         upload=f.upload("../../etc/passwd.png", f.png_bytes()))
    assert document.original_name == "passwd.png"


MB = 1024 * 1024


@pytest.mark.parametrize(("kind", "name", "content", "message"), [
    ("BANK_STATEMENT", "statement.pdf", b"GIF89a" + b"\x00" * 40,
     "Only JPEG, PNG or PDF files are accepted; this file is none of them."),
    ("BANK_STATEMENT", "statement.jpg", f.PDF, "This file is a PDF but its name ends in .jpg; rename it to .pdf."),
    ("ID_CARD_FRONT", "front.jpg", f.png_bytes(), "This file is a PNG but its name ends in .jpg; rename it to .png."),
    ("ID_CARD_FRONT", "front.pdf", f.PDF, "ID card (front) must be a JPEG or PNG image."),
    ("HOUSE_CERTIFICATE", "house.png", b"MZ" + b"\x00" * 100,
     "Only JPEG, PNG or PDF files are accepted; this file is none of them."),
    ("BANK_STATEMENT", "empty.pdf", b"", "The file is empty."),
    ("SELFIE", "me.jpg", f.JPEG, "Unknown document kind 'SELFIE'."),
])
def test_bad_uploads_are_refused_and_change_nothing(private_media, kind, name, content, message):
    customer = f.customer()
    with pytest.raises(WanxinError) as refused:
        services.document_upload(customer=customer, kind=kind, upload=f.upload(name, content))
    assert (refused.value.message, refused.value.code) == (message, "invalid_document")
    assert counts() == (0, 0, 0, 0)
    assert stored_files(private_media) == []


def test_too_large_upload_is_refused_by_size(settings, private_media):
    settings.KYC_MAX_UPLOAD_BYTES = 1 * MB
    customer = f.customer()
    big = f.PDF + b"\x00" * (MB - len(f.PDF) + 1)
    with pytest.raises(WanxinError) as refused:
        services.document_upload(customer=customer, kind="BANK_STATEMENT", upload=f.upload("big.pdf", big))
    assert refused.value.message == "The file is larger than 1 MB."
    assert counts() == (0, 0, 0, 0) and stored_files(private_media) == []
    services.document_upload(customer=customer, kind="BANK_STATEMENT", upload=f.upload("fits.pdf", big[:-1]))
    assert KycDocument.objects.get().size == MB


def test_a_new_id_card_side_replaces_the_old_one():
    customer = f.customer()
    first = services.document_upload(customer=customer, kind="ID_CARD_FRONT", upload=f.jpeg())
    second = services.document_upload(customer=customer, kind="ID_CARD_FRONT", upload=f.png())
    first.refresh_from_db()
    assert first.removed_at is not None and second.removed_at is None
    assert list(KycDocument.objects.filter(removed_at__isnull=True).values_list("pk", flat=True)) == [second.pk]


def test_documents_per_application_are_limited(settings, private_media):
    settings.KYC_MAX_DOCUMENTS = 2
    customer = f.customer()
    services.document_upload(customer=customer, kind="BANK_STATEMENT", upload=f.pdf())
    services.document_upload(customer=customer, kind="BANK_STATEMENT", upload=f.pdf())
    before = counts()
    with pytest.raises(Conflict) as refused:
        services.document_upload(customer=customer, kind="INCOME_PROOF", upload=f.pdf())
    assert refused.value.message == "An application holds at most 2 documents; remove one first."
    assert counts() == before and len(stored_files(private_media)) == 2


def test_remove_marks_the_document_and_keeps_the_file(private_media):
    customer = f.customer()
    document = services.document_upload(customer=customer, kind="BANK_STATEMENT", upload=f.pdf())
    services.document_remove(customer=customer, document_id=document.pk)
    document.refresh_from_db()
    assert document.removed_at is not None and len(stored_files(private_media)) == 1
    with pytest.raises(NotFound):
        services.document_remove(customer=customer, document_id=document.pk)


def test_another_customers_document_is_not_found():
    owner, other = f.customer(), f.customer()
    document = services.document_upload(customer=owner, kind="BANK_STATEMENT", upload=f.pdf())
    services.document_upload(customer=other, kind="BANK_STATEMENT", upload=f.pdf())
    with pytest.raises(NotFound):
        services.document_open_for_owner(customer=other, document_id=document.pk)
    with pytest.raises(NotFound):
        services.document_remove(customer=other, document_id=document.pk)
    document.refresh_from_db()
    assert document.removed_at is None
    found, handle = services.document_open_for_owner(customer=owner, document_id=document.pk)
    with handle:
        assert (found.pk, handle.read()) == (document.pk, f.PDF)


# -- submission ---------------------------------------------------------------------------


def test_incomplete_application_cannot_be_submitted():
    customer = f.customer()
    declared(customer)
    services.document_upload(customer=customer, kind="ID_CARD_FRONT", upload=f.jpeg())
    application = KycApplication.objects.get(customer=customer)
    before = state(application)
    with pytest.raises(WanxinError) as refused:
        services.application_submit(customer=customer)
    assert refused.value.message == "Upload your ID card (back). Upload a bank statement or an income proof."
    assert state(application) == before


def test_submit_moves_to_submitted_and_freezes_the_application():
    customer = f.customer()
    application = submitted(customer)
    application = KycApplication.objects.get(pk=application.pk)
    assert (application.status, application.submission_count) == ("SUBMITTED", 1)
    assert application.submitted_at is not None
    before, docs = state(application), counts()
    for attempt in (
        lambda: declared(customer),
        lambda: services.document_upload(customer=customer, kind="INCOME_PROOF", upload=f.pdf()),
        lambda: services.document_remove(customer=customer, document_id=KycDocument.objects.first().pk),
        lambda: services.application_submit(customer=customer),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.message == "Your application is being reviewed; it cannot be changed now."
    assert state(application) == before and counts() == docs


def test_an_id_number_under_review_elsewhere_blocks_submission():
    submitted(f.customer())
    second = f.customer()
    application = complete(second)
    before = state(application)
    with pytest.raises(Conflict) as refused:
        services.application_submit(customer=second)
    assert refused.value.message == "This ID number is already verified or under review for another account."
    assert state(application) == before


# -- review -------------------------------------------------------------------------------


def test_approve_rates_sets_the_limit_and_audits_once():
    customer, reviewer = f.customer(), f.reviewer()
    application = submitted(customer)
    services.application_approve(operator=reviewer, application_id=application.pk, reason="  all clear ")
    application = KycApplication.objects.get(pk=application.pk)
    # 300k yuan income (30) + 1.5M assets (20) + bank statement (10) = 60 → A, 60 % of income.
    assert (application.status, application.rating, application.rating_score, application.credit_limit,
            application.reviewed_by, application.review_reason) == (
        "APPROVED", "A", 60, 18_000_000, reviewer, "all clear")
    review = KycReview.objects.get()
    assert (review.decision, review.reason, review.reviewer, review.rating, review.credit_limit) == (
        "APPROVED", "all clear", reviewer, "A", 18_000_000)
    audit = AuditLog.objects.get()
    assert (audit.actor, audit.actor_username, audit.action, audit.target_type, audit.target_id) == (
        reviewer, reviewer.username, "kyc.approve", "kyc.kycapplication", str(application.pk))
    assert audit.before == {"status": "SUBMITTED", "rating": "", "credit_limit": None, "reason": ""}
    assert audit.after == {"status": "APPROVED", "rating": "A", "credit_limit": 18_000_000, "reason": "all clear"}


def test_reject_needs_a_reason_and_then_allows_resubmission():
    customer, reviewer = f.customer(), f.reviewer()
    application = submitted(customer)
    before = state(application)
    for reason in ("", "   "):
        with pytest.raises(WanxinError) as refused:
            services.application_reject(operator=reviewer, application_id=application.pk, reason=reason)
        assert refused.value.message == "A reason is required to reject an application."
    with pytest.raises(WanxinError):
        services.application_reject(operator=reviewer, application_id=application.pk, reason="x" * 501)
    assert state(application) == before and counts() == (1, 3, 0, 0)

    services.application_reject(operator=reviewer, application_id=application.pk, reason="ID photo is blurred")
    application = KycApplication.objects.get(pk=application.pk)
    assert (application.status, application.review_reason, application.rating, application.credit_limit) == (
        "REJECTED", "ID photo is blurred", "", None)
    audit = AuditLog.objects.get()
    assert (audit.action, audit.before["status"], audit.after) == (
        "kyc.reject", "SUBMITTED", {"status": "REJECTED", "rating": "", "credit_limit": None,
                                    "reason": "ID photo is blurred"})

    # The customer fixes the photo, adds a house certificate and submits again.
    services.document_upload(customer=customer, kind="ID_CARD_FRONT", upload=f.jpeg("sharp.jpg"))
    services.document_upload(customer=customer, kind="HOUSE_CERTIFICATE", upload=f.pdf("house.pdf"))
    services.application_submit(customer=customer)
    application = KycApplication.objects.get(pk=application.pk)
    assert (application.status, application.submission_count) == ("SUBMITTED", 2)
    services.application_approve(operator=reviewer, application_id=application.pk)
    application = KycApplication.objects.get(pk=application.pk)
    # Now 30 + 20 + 10 + 15 = 75 → AA: 80 % of 300k yuan = 240k yuan.
    assert (application.status, application.rating, application.rating_score, application.credit_limit) == (
        "APPROVED", "AA", 75, 24_000_000)
    assert list(KycReview.objects.order_by("id").values_list("decision", "reason")) == [
        ("REJECTED", "ID photo is blurred"), ("APPROVED", "")]
    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)) == ["kyc.reject", "kyc.approve"]


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_only_submitted_applications_are_reviewed(decide):
    customer, reviewer = f.customer(), f.reviewer()
    application = complete(customer)
    action = getattr(services, f"application_{decide}")
    before = state(application)
    with pytest.raises(Conflict) as refused:
        action(operator=reviewer, application_id=application.pk, reason="because")
    assert refused.value.message == "This application is draft, not awaiting review."
    with pytest.raises(NotFound):
        action(operator=reviewer, application_id=application.pk + 1000, reason="because")
    assert state(application) == before and AuditLog.objects.count() == 0


def test_approved_is_final():
    customer, reviewer = f.customer(), f.reviewer()
    application = submitted(customer)
    services.application_approve(operator=reviewer, application_id=application.pk)
    before = state(application)
    with pytest.raises(Conflict):
        services.application_approve(operator=reviewer, application_id=application.pk)
    with pytest.raises(Conflict):
        services.application_reject(operator=reviewer, application_id=application.pk, reason="changed my mind")
    with pytest.raises(Conflict) as refused:
        services.document_upload(customer=customer, kind="INCOME_PROOF", upload=f.pdf())
    assert refused.value.message == "Your application has been approved; it cannot be changed now."
    assert state(application) == before and AuditLog.objects.count() == 1


@pytest.mark.parametrize("role", [r for r in roles.ROLES if "review_kyc" not in roles.ROLES[r]])
def test_operators_without_review_kyc_cannot_review(role):
    application = submitted(f.customer())
    operator = f.operator(role)
    before = state(application)
    with pytest.raises(Forbidden):
        services.application_approve(operator=operator, application_id=application.pk)
    with pytest.raises(Forbidden):
        services.application_reject(operator=operator, application_id=application.pk, reason="no")
    with pytest.raises(Forbidden):
        services.document_open_for_reviewer(operator=operator, document_id=KycDocument.objects.first().pk)
    assert state(application) == before and counts() == (1, 3, 0, 0)


def test_one_id_number_is_approved_for_one_account_only():
    reviewer = f.reviewer()
    first = submitted(f.customer())
    services.application_approve(operator=reviewer, application_id=first.pk)
    # A second account with the same ID number slipped into review (e.g. before the first
    # was approved): the database constraint still refuses the second approval.
    second = complete(f.customer())
    KycApplication.objects.filter(pk=second.pk).update(status="SUBMITTED")
    before = state(second)
    with pytest.raises(Conflict) as refused:
        services.application_approve(operator=reviewer, application_id=second.pk)
    assert refused.value.message == "This ID number is already verified for another account."
    assert state(second) == before and AuditLog.objects.count() == 1 and KycReview.objects.count() == 1


def test_reviewer_document_views_are_audited():
    application = submitted(f.customer())
    reviewer = f.reviewer()
    document = KycDocument.objects.filter(application=application).first()
    _, handle = services.document_open_for_reviewer(operator=reviewer, document_id=document.pk)
    handle.close()
    audit = AuditLog.objects.get()
    assert (audit.action, audit.target_type, audit.target_id, audit.after) == (
        "kyc.document_view", "kyc.kycdocument", str(document.pk),
        {"application": application.pk, "kind": document.kind})


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_leave_exactly_one(private_media):
    application = submitted(f.customer())
    reviewers = [f.reviewer(), f.reviewer()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(index: int) -> None:
        try:
            barrier.wait()
            with db_transaction.atomic():
                if index == 0:
                    services.application_approve(operator=reviewers[0], application_id=application.pk)
                else:
                    services.application_reject(operator=reviewers[1], application_id=application.pk,
                                                reason="duplicate")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert KycReview.objects.count() == 1 and AuditLog.objects.count() == 1
    assert KycApplication.objects.get(pk=application.pk).status == KycReview.objects.get().decision


def test_approved_credit_for_other_apps():
    from wanxin.kyc.selectors import approved_credit

    customer = f.customer()
    application = submitted(customer)
    assert approved_credit(customer.pk) is None
    services.application_approve(operator=f.reviewer(), application_id=application.pk)
    assert approved_credit(customer.pk) == ("A", 18_000_000)
