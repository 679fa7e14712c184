"""Defects a first visit found on the lending pages (issue 11), each with the test that would
have caught it: the review form's defaults, raw codes, errors named once as the page labels
them, the repaying loan's dates, what an over-large bid is told, the borrowing limit and the
link to qualifications."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from wanxin.lending.models import Project

from .conftest import applied, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_values(html: str, form_id: str) -> dict[str, str]:
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    return {name: value for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form)
            if name != "csrfmiddlewaretoken"}


def test_approve_and_publish_with_the_prefilled_defaults(live, reviewer):
    """It gave HTTP 400 "no more than 4 decimal places": the form pre-filled 12.000000."""
    project = applied(customer(kyc_limit=100_000_00), amount=1_000_00)
    web = client_for(reviewer)
    values = form_values(web.get(f"/loans/review/{project.pk}").content.decode(), "approve-form")
    assert values["borrower_rate"] == "12" and values["investor_rate"] == "10" and values["service_fee_rate"] == "2"
    answer = web.post(f"/loans/review/{project.pk}/approve", values)
    assert answer.status_code == 302, answer.content.decode()
    assert Project.objects.get(pk=project.pk).status == "COLLECTING"


def test_review_tabs_name_statuses_not_codes(reviewer):
    html = client_for(reviewer).get("/loans/review/").content.decode()
    tabs = html.split('id="status-tabs"')[1].split("</nav>")[0]
    assert ">Pending Review<" in tabs and ">Collecting<" in tabs
    assert ">PENDING_REVIEW<" not in tabs and ">DRAFT<" not in tabs


def test_hall_errors_name_the_field_as_labelled_once():
    """It said "rate_min: Enter a number." (the field's code, Django's words)."""
    html = Client().get("/loans/", {"rate_min": "abc", "months_max": "x"}).content.decode()
    errors = re.findall(r"<li>([^<]*)</li>", html.split('id="errors"')[1].split("</ul>")[0])
    assert errors == ["Rate from (%): Enter a percentage such as 9.5.",
                      "Term to (months): Enter a whole number of months."]
    assert "rate_min" not in html.split('id="errors"')[1].split("</ul>")[0]


def test_hall_errors_in_chinese():
    html = Client(headers={"accept-language": "zh-hans"}).get("/loans/", {"rate_min": "abc"}).content.decode()
    from django.conf import settings

    if "django.middleware.locale.LocaleMiddleware" not in settings.MIDDLEWARE:
        pytest.skip("the language middleware is not installed in this branch yet")
    assert "年化利率从（%）：请输入百分比，例如 9.5。" in html


def test_a_repaying_loan_does_not_say_collecting_until(live, reviewer):
    project = collecting(customer(kyc_limit=100_000_00), reviewer, amount=1_000_00)
    Project.objects.filter(pk=project.pk).update(status="REPAYING", loaned_at=timezone.now())
    html = Client().get(f"/loans/{project.pk}").content.decode()
    assert "Collecting until" not in html and "Being repaid since" in html and ">Repaying<" in html
    Project.objects.filter(pk=project.pk).update(status="COLLECTING")
    assert "Collecting until" in Client().get(f"/loans/{project.pk}").content.decode()


def test_a_bid_above_what_remains_is_told_what_remains(live, reviewer):
    """¥999,999,999 was told "Invest in multiples of ¥100.00"."""
    project = collecting(customer(kyc_limit=100_000_00), reviewer, amount=10_000_00)
    investor = customer(balance=1_000_00)
    html = client_for(investor).get(f"/loans/{project.pk}/invest", {"amount": "999999999"}).content.decode()
    errors = html.split('id="errors"')[1].split("</ul>")[0]
    assert "Only ¥10,000.00 remains." in errors and "multiples" not in errors
    assert errors.count("<li>") == 1


def test_apply_shows_the_borrowing_limit(live, reviewer):
    borrower = customer(kyc_limit=50_000_00)
    collecting(borrower, reviewer, amount=20_000_00)
    Project.objects.filter(borrower=borrower).update(status="REPAYING")
    html = client_for(borrower).get("/loans/apply").content.decode()
    limit = html.split('id="limit"')[1].split("</p>")[0]
    assert "¥30,000.00" in limit and "¥50,000.00" in limit and "¥20,000.00" in limit


def test_kyc_refusal_links_to_qualifications(live):
    borrower = customer()  # an account, no KYC
    web = client_for(borrower)
    page = web.get("/loans/apply").content.decode()
    assert 'href="/kyc/"' in page.split('id="limit"')[1].split("</p>")[0]
    answer = web.post("/loans/apply", {"amount": "10000", "months": "6", "method": "EQUAL_INSTALLMENT",
                                       "purpose": "Tea house", "description": ""}).content.decode()
    assert "must be approved before you can borrow" in answer
    assert re.search(r'id="next-step" href="/kyc/"', answer)
    assert not Project.objects.filter(borrower=borrower).exists()


def test_my_loans_and_hall_name_statuses_and_methods():
    html = Client().get("/loans/", {"status": "COLLECTING"}).content.decode()
    hall = html[html.index('class="filters"'):]  # the header has its own forms (language switch)
    assert "EQUAL_INSTALLMENT" not in hall.split("</form>")[1]  # (no rows here; the options are labels)
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', html)
    assert ("COLLECTING", "Collecting") in options and ("BULLET", "Principal and interest at the end") in options


def test_search_finds_any_part_of_a_chinese_or_english_name_or_description(live, reviewer):
    """Searching the hall for "茶" found nothing though a tea house loan existed."""
    tea = collecting(customer(kyc_limit=100_000_00), reviewer, amount=1_000_00)
    Project.objects.filter(pk=tea.pk).update(name="福州茶馆装修 · ¥1,000.00 · 6 months",
                                             description="New tables for the Old Street Tea House")
    other = collecting(customer(kyc_limit=100_000_00), reviewer, amount=1_000_00)
    Project.objects.filter(pk=other.pk).update(name="咖啡店扩张", description="A bigger espresso machine")

    def found(q: str) -> list[int]:
        return [p["id"] for p in Client().get("/api/v1/loans/projects", {"q": q}).json()["items"]]

    assert found("茶") == [tea.pk]  # one character
    assert found("茶馆") == [tea.pk]  # two
    assert found("福州茶馆") == [tea.pk]  # more: the trigram index
    assert found("tea") == [tea.pk] and found("HOUSE old") == [tea.pk]  # any case, every word
    assert found("咖啡") == [other.pk] and found("espresso") == [other.pk]
    assert found("茶 espresso") == [] and found("100%") == [] and found("_") == []
    html = Client().get("/loans/", {"q": "茶"}).content.decode()
    assert "福州茶馆装修" in html and "咖啡店扩张" not in html


def test_search_counts_up_to_a_cap(live, reviewer, monkeypatch):
    """A common word's exact count reads every match; with a search the hall stops counting
    at the cap and says there are more."""
    from wanxin.lending import selectors

    for _ in range(3):
        collecting(customer(kyc_limit=100_000_00), reviewer, amount=1_000_00)
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    body = Client().get("/api/v1/loans/projects", {"q": "shop", "page_size": 1}).json()
    assert (body["count"], body["capped"], body["pages"], len(body["items"])) == (2, True, 2, 1)
    plain = Client().get("/api/v1/loans/projects", {"page_size": 1}).json()
    assert (plain["count"], plain["capped"]) == (3, False)  # no search: the exact count
    assert "more than 2 loans" in Client().get("/loans/", {"q": "shop"}).content.decode()
