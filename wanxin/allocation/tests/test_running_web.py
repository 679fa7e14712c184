"""A running allocation through the API and the pages: revealing the sub-account password
with the login password (never cached), and applying to terminate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from wanxin.allocation import domain, services
from wanxin.allocation.models import Allocation, Product, SubAccount
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f

from .conftest import allocation_customer
from .test_review import capital  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
API = "/api/v1/allocation"


@pytest.fixture
def running(live, capital):  # noqa: F811
    operator = f.operator(roles.ALLOCATION_OPERATOR)
    user = allocation_customer(2_000_000)
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=1_000_001, multiple=3, duration=3))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-W{allocation.pk}", password="Secret-77")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=domain.BEIJING))
    client = Client()
    client.force_login(user)
    return allocation, client


def test_api_reveals_the_password_only_with_the_login_password(running):
    allocation, client = running
    url = f"{API}/allocations/{allocation.pk}/sub-account"
    refused = client.post(url, {"password": "nope"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "invalid_password"
    shown = client.post(url, {"password": "x-pass-9"}, content_type="application/json")
    assert shown.status_code == 200
    assert shown.json() == {"accountId": f"HS-W{allocation.pk}", "password": "Secret-77", "system": "HOMS"}
    assert shown["Cache-Control"] == "private, no-store"
    stranger = Client()
    stranger.force_login(allocation_customer(0))
    assert stranger.post(url, {"password": "x-pass-9"}, content_type="application/json").status_code == 404


def test_page_reveals_then_terminates(running):
    allocation, client = running
    page = client.get(f"/allocation/mine/{allocation.pk}")
    html = page.content.decode()
    assert "Secret-77" not in html and 'id="reveal-form"' in html and 'id="terminate-form"' in html
    assert page["Cache-Control"] == "private, no-store"
    wrong = client.post(f"/allocation/mine/{allocation.pk}/sub-account", {"password": "nope"}).content.decode()
    assert "Secret-77" not in wrong and 'class="errorlist"' in wrong
    right = client.post(f"/allocation/mine/{allocation.pk}/sub-account", {"password": "x-pass-9"}).content.decode()
    assert 'id="sa-password">Secret-77<' in right
    client.post(f"/allocation/mine/{allocation.pk}/terminate", {"reason": "enough"})
    assert Allocation.objects.get(pk=allocation.pk).status == domain.TERMINATION_REQUESTED
    again = client.post(f"{API}/allocations/{allocation.pk}/termination", {"reason": "again"},
                        content_type="application/json")
    assert again.status_code == 409


def test_api_termination_needs_a_reason(running):
    allocation, client = running
    response = client.post(f"{API}/allocations/{allocation.pk}/termination", {"reason": " "},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_reason"
    response = client.post(f"{API}/allocations/{allocation.pk}/termination", {"reason": "taking profit"},
                           content_type="application/json")
    assert response.status_code == 202 and response.json()["status"] == "TERMINATION_REQUESTED"


def test_page_asks_for_a_top_up_and_the_dashboard_shows_it(running):
    from wanxin.allocation.models import Request

    allocation, client = running
    client.post(f"/allocation/mine/{allocation.pk}/requests", {"kind": "TOP_UP", "amount": "1,000.00"})
    request = Request.objects.get(allocation=allocation)
    assert (request.kind, request.amount, request.status) == ("TOP_UP", 100_000, "PENDING")
    page = client.get(f"/allocation/mine/{allocation.pk}").content.decode()
    assert "Margin top-up ¥1,000.00 · Pending" in page
    refused = client.post(f"/allocation/mine/{allocation.pk}/requests", {"kind": "TOP_UP", "amount": "5"},
                          follow=True).content.decode()
    assert "already open" in refused
    operator = Client()
    operator.force_login(f.operator(roles.ALLOCATION_OPERATOR))
    dashboard = operator.get("/backoffice/").content.decode()
    assert "Allocation requests and terminations" in dashboard


def test_api_and_page_ask_for_an_extension(running):
    from wanxin.allocation.models import Request

    allocation, client = running
    response = client.post(f"{API}/allocations/{allocation.pk}/requests", {"kind": "EXTENSION", "months": 13},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_months"
    response = client.post(f"{API}/allocations/{allocation.pk}/requests", {"kind": "EXTENSION", "months": 2},
                           content_type="application/json")
    assert response.status_code == 201 and response.json()["kind"] == "EXTENSION"
    again = client.post(f"/allocation/mine/{allocation.pk}/requests", {"kind": "EXTENSION", "months": "1"},
                        follow=True).content.decode()
    assert "already open" in again
    assert Request.objects.filter(allocation=allocation, kind="EXTENSION").count() == 1


def test_page_turns_auto_renew_on_and_off_for_its_owner_only(running):
    allocation, client = running
    url = f"/allocation/mine/{allocation.pk}/auto-renew"
    page = client.get(f"/allocation/mine/{allocation.pk}").content.decode()
    assert 'id="auto-renew" class="off"' in page
    assert 'data-confirm="Renew automatically? At each end the next month' in page and "fee of ¥450.00" in page
    stranger = Client()
    stranger.force_login(allocation_customer(0))
    assert stranger.post(url, {"on": "1"}).status_code == 404
    assert stranger.get(f"/allocation/mine/{allocation.pk}").status_code == 404
    bad = client.post(url, {"on": "yes"})
    assert bad.status_code == 400 and "Say whether to renew automatically (true or false)." in bad.content.decode()
    assert Allocation.objects.get(pk=allocation.pk).auto_renew is False

    on = client.post(url, {"on": "1"}, follow=True).content.decode()
    assert "Automatic renewal is on." in on and 'id="auto-renew" class="on"' in on
    assert "Stop renewing automatically? Without an extension the allocation then ends on 2026-12-29." in on
    assert Allocation.objects.get(pk=allocation.pk).auto_renew is True
    chinese = client.get(f"/allocation/mine/{allocation.pk}", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "自动续约已开启" in chinese
    off = client.post(url, {"on": "0"}, follow=True).content.decode()
    assert "Automatic renewal is off." in off and 'id="auto-renew" class="off"' in off
    assert Allocation.objects.get(pk=allocation.pk).auto_renew is False

    client.post(f"/allocation/mine/{allocation.pk}/terminate", {"reason": "enough"})  # ending: no renewal any more
    assert 'id="auto-renew-form"' not in client.get(f"/allocation/mine/{allocation.pk}").content.decode()
    late = client.post(url, {"on": "1"})
    assert late.status_code == 409 and "Only a monthly allocation that is not yet ending" in late.content.decode()
    assert Allocation.objects.get(pk=allocation.pk).auto_renew is False
