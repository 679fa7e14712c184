"""Customer pages under /kyc/."""

from __future__ import annotations

import pytest

from wanxin.backoffice.tests import factories as f
from wanxin.backoffice.tests.fixtures import stored_files
from wanxin.kyc import services
from wanxin.kyc.models import KycApplication, KycDocument

from .helpers import ID_NUMBER, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    user = f.customer()
    client.force_login(user)
    return user


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_anonymous_visitors_are_sent_to_the_customer_login(client):
    for method, url in [("get", "/kyc/"), ("post", "/kyc/submit"), ("get", "/kyc/documents/1")]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"] == f"/accounts/login?next={url}"


def test_operators_are_turned_away(client):
    client.force_login(f.reviewer())
    response = client.get("/kyc/")
    assert response.status_code == 403 and b"Operators review qualifications" in response.content


def test_the_whole_journey_through_the_pages(client, customer, private_media):
    page = client.get("/kyc/")
    assert page.status_code == 200 and b"You have not started yet" in page.content

    response = client.post("/kyc/declare", {"real_name": "张三丰", "id_number": ID_NUMBER,
                                            "annual_income": "300,000", "assets": "1500000.00"}, follow=True)
    assert messages_of(response) == ["Your declarations are saved."]
    assert "110***********1239" in response.content.decode()
    assert ID_NUMBER not in response.content.decode()
    application = KycApplication.objects.get(customer=customer)
    assert (application.annual_income, application.assets) == (30_000_000, 150_000_000)

    for kind, upload in [("ID_CARD_FRONT", f.jpeg()), ("ID_CARD_BACK", f.png()), ("BANK_STATEMENT", f.pdf())]:
        response = client.post("/kyc/documents", {"kind": kind, "file": upload}, follow=True)
        assert messages_of(response)[0].endswith("uploaded.")
    assert KycDocument.objects.filter(application=application).count() == 3

    response = client.post("/kyc/submit", follow=True)
    assert messages_of(response) == ["Your application is submitted; we will review it shortly."]
    assert b'data-testid="kyc-status">Submitted, awaiting review' in response.content

    services.application_reject(operator=f.reviewer(), application_id=application.pk, reason="Back side is cut off")
    page = client.get("/kyc/").content.decode()
    assert "Reason: Back side is cut off" in page and "Submit again" in page

    client.post("/kyc/documents", {"kind": "ID_CARD_BACK", "file": f.png("back2.png")})
    client.post("/kyc/submit")
    services.application_approve(operator=f.reviewer(), application_id=application.pk)
    page = client.get("/kyc/").content.decode()
    assert 'data-testid="kyc-rating">A<' in page and 'data-testid="kyc-limit">¥180,000.00<' in page
    assert "Back side is cut off" in page  # the history keeps the reason


@pytest.mark.parametrize(("data", "message"), [
    ({"annual_income": "-5"}, "Annual income (yuan): Enter an amount in yuan"),
    ({"annual_income": "1.001"}, "Annual income (yuan): Enter an amount in yuan"),
    ({"id_number": "110105199003071238"}, "This ID number's check character is wrong"),
])
def test_bad_declarations_show_a_message_and_change_nothing(client, customer, data, message):
    form = {"real_name": "张三丰", "id_number": ID_NUMBER, "annual_income": "1", "assets": "1", **data}
    response = client.post("/kyc/declare", form, follow=True)
    assert messages_of(response)[0].startswith(message)
    assert KycApplication.objects.count() == 0


@pytest.mark.parametrize(("name", "content", "message"), [
    ("photo.jpg", b"GIF89a" + b"\x00" * 30, "Only JPEG, PNG or PDF files are accepted; this file is none of them."),
    ("photo.png", f.JPEG, "This file is a JPEG but its name ends in .png; rename it to .jpg."),
])
def test_bad_uploads_show_a_message_and_store_nothing(client, customer, private_media, name, content, message):
    response = client.post("/kyc/documents", {"kind": "ID_CARD_FRONT", "file": f.upload(name, content)}, follow=True)
    assert messages_of(response) == [message]
    assert KycDocument.objects.count() == 0 and stored_files(private_media) == []


def test_too_large_upload_page(client, customer, settings, private_media):
    settings.KYC_MAX_UPLOAD_BYTES = 1024 * 1024
    big = f.upload("big.jpg", f.JPEG + b"\x00" * (1024 * 1024))
    response = client.post("/kyc/documents", {"kind": "ID_CARD_FRONT", "file": big}, follow=True)
    assert messages_of(response) == ["The file is larger than 1 MB."]
    assert KycDocument.objects.count() == 0 and stored_files(private_media) == []


def test_documents_stream_to_their_owner_only(client, customer):
    document = services.document_upload(customer=customer, kind="INCOME_PROOF", upload=f.png())
    response = client.get(f"/kyc/documents/{document.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == f.png_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="document-{document.pk}.png"'

    client.force_login(f.customer())
    assert client.get(f"/kyc/documents/{document.pk}").status_code == 404
    assert client.post(f"/kyc/documents/{document.pk}/remove").status_code == 404
    document.refresh_from_db()
    assert document.removed_at is None


def test_remove_page(client, customer):
    document = services.document_upload(customer=customer, kind="INCOME_PROOF", upload=f.png())
    response = client.post(f"/kyc/documents/{document.pk}/remove", follow=True)
    assert messages_of(response) == ["Document removed."]
    assert client.get(f"/kyc/documents/{document.pk}").status_code == 404


def test_submitted_application_shows_no_forms(client, customer):
    submitted(customer)
    page = client.get("/kyc/").content.decode()
    assert "Reviewers are checking your documents" in page
    assert 'action="/kyc/documents"' not in page and 'action="/kyc/submit"' not in page
    response = client.post("/kyc/documents", {"kind": "INCOME_PROOF", "file": f.pdf()}, follow=True)
    assert messages_of(response) == ["Your application is being reviewed; it cannot be changed now."]
