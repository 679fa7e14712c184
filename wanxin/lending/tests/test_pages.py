"""The financing hall, loan detail, investing and applying pages and the JSON API; the
operators' review, cancel and maker-checker pages with their permissions."""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal

import pytest
from django.test import Client

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank import invariants
from wanxin.lending import services
from wanxin.lending.models import Disbursement, Project, Tender

from .conftest import TERMS, applied, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def loans(live, reviewer):
    """Three published loans and one still under review."""
    a = collecting(customer(kyc_limit=10**9), reviewer, amount=10_000_00, months=6, method="EQUAL_INSTALLMENT")
    b = collecting(customer(kyc_limit=10**9), reviewer, amount=50_000_00, months=12, method="BULLET",
                   terms=dataclasses.replace(TERMS, investor_rate=Decimal("0.08")))
    c = collecting(customer(kyc_limit=10**9), reviewer, amount=20_000_00, months=3, method="EQUAL_PRINCIPAL")
    Project.objects.filter(pk=c.pk).update(description="Tractor for the tea plantation in Fujian")
    hidden = applied(customer(kyc_limit=10**9))
    return {"a": a, "b": b, "c": c, "hidden": hidden}


def hall_ids(**params) -> list[int]:
    body = Client().get("/api/v1/loans/projects", params).json()
    return [p["id"] for p in body["items"]]


def test_hall_filters_search_sort_and_pages(loans):
    a, b, c = loans["a"].pk, loans["b"].pk, loans["c"].pk
    assert set(hall_ids()) == {a, b, c}  # never the one under review
    assert hall_ids(rate_min="0.09") == [c, a]
    assert hall_ids(rate_max="0.09") == [b]
    assert set(hall_ids(months_min=6)) == {a, b} and hall_ids(months_max=3) == [c]
    assert hall_ids(method="BULLET") == [b]
    assert set(hall_ids(amount_min=20_000_00)) == {b, c} and hall_ids(amount_max=10_000_00) == [a]
    assert hall_ids(q="tractor plantation") == [c]  # full-text over the description
    assert hall_ids(q="Shop renovation") == [c, b, a]  # the name
    assert hall_ids(q="nothing-like-this") == []
    assert hall_ids(sort="-amount") == [b, c, a] and hall_ids(sort="term") == [c, a, b]
    assert hall_ids(status="FULL") == []
    body = Client().get("/api/v1/loans/projects", {"page_size": 2, "page": 2, "sort": "amount"}).json()
    assert (body["count"], body["pages"], [p["id"] for p in body["items"]]) == (3, 2, [b])

    page = Client().get("/loans/", {"q": "tractor", "rate_min": "9"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/loans/{c}" in html and f"/loans/{a}" not in html
    assert Client().get(f"/loans/{loans['hidden'].pk}").status_code == 404
    assert Client().get(f"/api/v1/loans/projects/{loans['hidden'].pk}").status_code == 404


def test_detail_progress_masked_tenders_and_preview(loans):
    project = loans["a"]
    investor = customer(balance=5_000_00)
    services.tender_place(investor=investor, project_id=project.pk, amount=2_500_00)
    html = Client().get(f"/loans/{project.pk}", {"amount": "1200"}).content.decode()
    assert 'value="25"' in html and "¥7,500.00" in html  # progress and remaining
    assert investor.username not in html and f"{investor.username[0]}***{investor.username[-1]}" in html
    assert len(re.findall(r"<tr><td[^>]*>\d+</td>", html.split('id="preview"')[1].split("</table>")[0])) == 6
    body = Client().get(f"/api/v1/loans/projects/{project.pk}", {"amount": 1_200_00}).json()
    assert (body["raised"], body["remaining"], body["progress_percent"]) == (2_500_00, 7_500_00, 25)
    assert len(body["preview"]) == 6 and sum(p["principal"] for p in body["preview"]) == 1_200_00
    assert body["tenders"][0]["investor"] != investor.username


def test_invest_page_shows_expected_returns_then_freezes(loans):
    project = loans["b"]  # bullet, 12 months at 8%
    investor = customer(balance=5_000_00)
    web = client_for(investor)
    page = web.get(f"/loans/{project.pk}/invest", {"amount": "1000"})
    assert page.status_code == 200
    assert 'id="expected-interest">¥80.00' in page.content.decode()
    assert not Tender.objects.exists()
    bad = web.get(f"/loans/{project.pk}/invest", {"amount": "150"}).content.decode()
    assert "multiples of" in bad and 'id="confirm"' not in bad
    done = web.post(f"/loans/{project.pk}/invest", {"amount": "1000"})
    assert done.status_code == 302
    assert list(Tender.objects.values_list("investor_id", "amount", "status")) == [(investor.pk, 1_000_00, "FROZEN")]
    own = client_for(project.borrower).get(f"/loans/{project.pk}/invest", {"amount": "1000"}).content.decode()
    assert "your own loan" in own
    assert Client().get(f"/loans/{project.pk}/invest").status_code == 302  # to the login page
    assert invariants.total_balance() == 0


def test_api_apply_quote_and_invest(live, reviewer):
    borrower = customer(kyc_limit=100_000_00)
    api = client_for(borrower)
    post = lambda c, url, body: c.post(url, json.dumps(body), content_type="application/json")  # noqa: E731
    for amount in (10.5, "1000000", -100, 0, True):
        r = post(api, "/api/v1/loans/applications", {"amount": amount, "months": 6, "method": "BULLET",
                                                     "purpose": "x"})
        assert r.status_code == 400 and r.json()["code"] == "amount", amount
    r = post(api, "/api/v1/loans/applications", {"amount": 10_000_00, "months": 6, "method": "BULLET",
                                                 "purpose": "Truck"})
    assert r.status_code == 201 and r.json()["status"] == "PENDING_REVIEW"
    assert post(api, "/api/v1/loans/applications", {"amount": 10_000_00, "months": 6, "method": "BULLET",
                                                    "purpose": "Truck"}).status_code == 409
    project = services.project_approve(operator=reviewer, project_id=r.json()["id"], terms=TERMS)

    investor = client_for(customer(balance=3_000_00))
    q = investor.get(f"/api/v1/loans/projects/{project.pk}/quote", {"amount": 1_000_00})
    assert q.status_code == 200 and q.json()["interest"] == 50_00  # 10% for 6 months, bullet
    assert investor.get(f"/api/v1/loans/projects/{project.pk}/quote", {"amount": 1_000_01}).status_code == 400
    r = post(investor, f"/api/v1/loans/projects/{project.pk}/tenders", {"amount": 1_000_00})
    assert r.status_code == 201 and r.json()["status"] == "FROZEN"
    assert post(investor, f"/api/v1/loans/projects/{project.pk}/tenders", {"amount": 1.5}).status_code == 400
    # A resent call with the same Idempotency-Key returns the first tender.
    first, again = (investor.post(f"/api/v1/loans/projects/{project.pk}/tenders", json.dumps({"amount": 500_00}),
                                  content_type="application/json", headers={"Idempotency-Key": "k-1"})
                    for _ in range(2))
    assert first.json()["id"] == again.json()["id"]
    assert Tender.objects.filter(project=project).count() == 2
    assert post(api, f"/api/v1/loans/projects/{project.pk}/tenders", {"amount": 1_000_00}).status_code == 409
    assert Client().post(f"/api/v1/loans/projects/{project.pk}/tenders", "{}",
                         content_type="application/json").status_code == 401
    assert [t["amount"] for t in investor.get("/api/v1/loans/tenders").json()] == [500_00, 1_000_00]
    assert invariants.total_balance() == 0


def test_operator_pages_review_and_maker_checker(live, reviewer, finance, sms):
    borrower = customer(kyc_limit=100_000_00)
    project = applied(borrower, amount=1_000_00)
    rev, fin = client_for(reviewer), client_for(finance)
    assert client_for(borrower).get("/loans/review/").status_code == 302  # customers: to the back-office login
    assert fin.get(f"/loans/review/{project.pk}").status_code == 403
    assert rev.get("/loans/review/disbursements/").status_code == 403
    assert project.project_no in rev.get("/loans/review/").content.decode()
    page = rev.get(f"/loans/review/{project.pk}").content.decode()
    assert 'id="approve-form"' in page and 'value="12"' in page  # defaults from the product, in percent
    form = {"borrower_rate": "12", "investor_rate": "13", "service_fee_rate": "1", "window_days": "7",
            "min_investment": "100", "increment": "100", "per_investor_cap": "1000"}
    assert fin.post(f"/loans/review/{project.pk}/approve", form).status_code == 403
    r = rev.post(f"/loans/review/{project.pk}/approve", form)
    assert r.status_code == 400 and "investor rate" in r.content.decode()
    assert Project.objects.get(pk=project.pk).status == "PENDING_REVIEW"
    r = rev.post(f"/loans/review/{project.pk}/approve", {**form, "investor_rate": "10"})
    assert r.status_code == 302
    assert Project.objects.get(pk=project.pk).status == "COLLECTING"

    services.tender_place(investor=customer(balance=1_000_00), project_id=project.pk, amount=1_000_00)
    assert rev.post(f"/loans/review/{project.pk}/propose").status_code == 302
    proposal = Disbursement.objects.get(project=project)
    # The maker cannot act as checker even with both roles.
    reviewer.groups.add(*f.operator(roles.FINANCE_OFFICER).groups.all())
    both = client_for(type(reviewer).objects.get(pk=reviewer.pk))
    assert "another officer" in both.get("/loans/review/disbursements/").content.decode()
    both.post(f"/loans/review/disbursements/{proposal.pk}/approve")
    assert Disbursement.objects.get(pk=proposal.pk).status == "PROPOSED"
    assert fin.post(f"/loans/review/disbursements/{proposal.pk}/approve").status_code == 302
    assert Disbursement.objects.get(pk=proposal.pk).status == "DONE"
    assert Project.objects.get(pk=project.pk).status == "REPAYING"

    other = applied(customer(kyc_limit=100_000_00))
    rev.post(f"/loans/review/{other.pk}/reject", {"reason": "Documents expired"})
    assert Project.objects.get(pk=other.pk).status == "REJECTED"
    assert any("Documents expired" in m.text for m in sms)
    assert invariants.total_balance() == 0


def test_empty_pages_and_the_job_is_registered(reviewer, finance):
    from wanxin.jobs import jobs

    assert "No loans match." in Client().get("/loans/").content.decode()
    assert "Nothing here." in client_for(reviewer).get("/loans/review/").content.decode()
    assert "Nothing to approve." in client_for(finance).get("/loans/review/disbursements/").content.decode()
    job = next(j for j in jobs() if j.name == "lending.miscarry_due")
    assert job.func()() == {"miscarried": 0, "refunds": 0}
