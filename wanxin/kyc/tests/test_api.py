"""The customer KYC API (/api/v1/kyc/) and the reviewer API (/api/v1/backoffice/kyc/)."""

from __future__ import annotations

import pytest

from wanxin.accounts.auth import token_issue
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f
from wanxin.backoffice.tests.fixtures import stored_files
from wanxin.kyc import services
from wanxin.kyc.models import KycApplication, KycDocument

from .helpers import ID_NUMBER, submitted

pytestmark = pytest.mark.django_db
BASE = "/api/v1/kyc"
OPS = "/api/v1/backoffice/kyc"


@pytest.fixture
def customer():
    return f.customer()


@pytest.fixture
def api(client, customer):
    """A client speaking for ``customer`` with a bearer token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_issue(user=customer)}"
    return client


DECLARATION = {"real_name": "张三丰", "id_number": ID_NUMBER, "annual_income": 30_000_000, "assets": 150_000_000}


def test_anonymous_and_operators_are_unauthorised(client):
    assert client.get(f"{BASE}/application").status_code == 401
    client.force_login(f.reviewer())
    assert client.get(f"{BASE}/application").status_code == 401
    assert client.put(f"{BASE}/application", DECLARATION, content_type="application/json").status_code == 401
    assert KycApplication.objects.count() == 0


def test_declare_upload_submit(api, customer):
    assert api.get(f"{BASE}/application").json()["status"] == "NONE"
    body = api.put(f"{BASE}/application", DECLARATION, content_type="application/json").json()
    assert {k: body[k] for k in ("status", "real_name", "id_number_masked", "annual_income", "assets")} == {
        "status": "DRAFT", "real_name": "张三丰", "id_number_masked": "110***********1239",
        "annual_income": 30_000_000, "assets": 150_000_000}
    ids = []
    for kind, upload in [("ID_CARD_FRONT", f.jpeg()), ("ID_CARD_BACK", f.png()), ("INCOME_PROOF", f.pdf())]:
        response = api.post(f"{BASE}/documents", {"kind": kind, "file": upload})
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
        assert response.json()["kind"] == kind
    body = api.post(f"{BASE}/application/submit").json()
    assert (body["status"], body["submission_count"]) == ("SUBMITTED", 1)
    assert sorted(d["id"] for d in body["documents"]) == sorted(ids)
    assert ID_NUMBER not in str(body)


@pytest.mark.parametrize("change", [
    {"annual_income": 1.5}, {"annual_income": "100"}, {"annual_income": True}, {"assets": -1},
    {"assets": 10**15 + 1}, {"annual_income": None},
])
def test_amounts_must_be_whole_fen(api, change):
    response = api.put(f"{BASE}/application", {**DECLARATION, **change}, content_type="application/json")
    assert response.status_code == 422
    assert KycApplication.objects.count() == 0


def test_invalid_id_number_is_a_clear_400(api):
    response = api.put(f"{BASE}/application", {**DECLARATION, "id_number": "110105199003071238"},
                       content_type="application/json")
    assert (response.status_code, response.json()) == (400, {
        "code": "invalid_id_number", "message": "This ID number's check character is wrong; please check for typos."})


@pytest.mark.parametrize(("name", "content", "message"), [
    ("scan.pdf", f.JPEG, "This file is a JPEG but its name ends in .pdf; rename it to .jpg."),
    ("scan.png", b"<?php echo 1; ?>", "Only JPEG, PNG or PDF files are accepted; this file is none of them."),
])
def test_bad_uploads_are_400_and_store_nothing(api, private_media, name, content, message):
    response = api.post(f"{BASE}/documents", {"kind": "BANK_STATEMENT", "file": f.upload(name, content)})
    assert (response.status_code, response.json()) == (400, {"code": "invalid_document", "message": message})
    assert KycDocument.objects.count() == 0 and stored_files(private_media) == []


def test_too_large_upload_is_400(api, settings, private_media):
    settings.KYC_MAX_UPLOAD_BYTES = 100
    response = api.post(f"{BASE}/documents", {"kind": "BANK_STATEMENT", "file": f.upload("a.pdf", f.PDF + b" " * 60)})
    assert (response.status_code, response.json()) == (
        400, {"code": "invalid_document", "message": "The file is larger than 100 bytes."})
    assert KycDocument.objects.count() == 0 and stored_files(private_media) == []


def test_documents_of_another_customer_are_404(api, customer):
    mine = services.document_upload(customer=customer, kind="INCOME_PROOF", upload=f.pdf())
    theirs = services.document_upload(customer=f.customer(), kind="INCOME_PROOF", upload=f.pdf())
    response = api.get(f"{BASE}/documents/{mine.pk}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == f.PDF
    assert response["Content-Type"] == "application/pdf"
    assert api.get(f"{BASE}/documents/{theirs.pk}").status_code == 404
    assert api.delete(f"{BASE}/documents/{theirs.pk}").status_code == 404
    assert KycDocument.objects.filter(removed_at__isnull=False).count() == 0
    assert api.delete(f"{BASE}/documents/{mine.pk}").status_code == 204
    assert api.get(f"{BASE}/documents/{mine.pk}").status_code == 404


# -- reviewer API -------------------------------------------------------------------------


def test_reviewer_api(client):
    customers = [f.customer(), f.customer()]
    first = submitted(customers[0])
    reviewer = f.reviewer()
    client.force_login(reviewer)
    queue = client.get(f"{OPS}/applications").json()
    assert queue["count"] == 1
    assert queue["items"][0] == {"id": first.pk, "customer_id": customers[0].pk, "username": customers[0].username,
                                 "real_name_masked": "张**", "status": "SUBMITTED",
                                 "submitted_at": queue["items"][0]["submitted_at"], "submission_count": 1}
    detail = client.get(f"{OPS}/applications/{first.pk}").json()
    assert detail["preview"] == {"score": 60, "rating": "A", "limit": 18_000_000,
                                 "breakdown": {"income": 30, "assets": 20, "documents": 10}}
    assert detail["id_number_masked"] == "110***********1239" and ID_NUMBER not in str(detail)
    assert len(detail["documents"]) == 3

    response = client.post(f"{OPS}/applications/{first.pk}/reject", {"reason": " "}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "reason_required")
    assert AuditLog.objects.count() == 0

    document_id = detail["documents"][0]["id"]
    response = client.get(f"{OPS}/documents/{document_id}")
    assert response.status_code == 200 and b"".join(response.streaming_content)
    assert AuditLog.objects.get().action == "kyc.document_view"

    response = client.post(f"{OPS}/applications/{first.pk}/approve", {"reason": ""},
                           content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["rating"], response.json()["credit_limit"]) == (
        "APPROVED", "A", 18_000_000)
    assert list(AuditLog.objects.order_by("id").values_list("action", "ip")) == [
        ("kyc.document_view", "127.0.0.1"), ("kyc.approve", "127.0.0.1")]
    response = client.post(f"{OPS}/applications/{first.pk}/approve", {}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (409, "not_submitted")
    assert client.get(f"{OPS}/applications/{first.pk + 999}").status_code == 404


def test_reviewer_api_refuses_customers_and_other_roles(client):
    application = submitted(f.customer())
    client.force_login(f.customer())
    assert client.get(f"{OPS}/applications").status_code == 401
    client.force_login(f.operator("customer service"))
    response = client.post(f"{OPS}/applications/{application.pk}/approve", {}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert KycApplication.objects.get().status == "SUBMITTED" and AuditLog.objects.count() == 0
