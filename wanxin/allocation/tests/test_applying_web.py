"""Applying and paying through the API and the pages, against the bank over live HTTP."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from wanxin.allocation.models import Allocation, Product

from .conftest import allocation_customer, bank_balance, books_balance, recharge

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
API = "/api/v1/allocation"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _monthly() -> int:
    return Product.objects.get(code="monthly").pk


def test_api_apply_deposit_only_make_up_and_read_back(live):
    user = allocation_customer(1_045_001)
    client = _client(user)
    body = {"productId": _monthly(), "deposit": 1_000_001, "multiple": 3, "duration": 3, "payRiskFund": False}
    response = client.post(f"{API}/allocations", body, content_type="application/json",
                           headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["status"], created["riskFundDue"], created["depositFrozen"], created["feesPaid"]) == (
        "DEPOSIT_PAID", 30_000, 1_000_001, 45_000)
    assert created["statusLabel"] == "Deposit paid, risk fund to make up"
    assert [r["kind"] for r in created["records"]] == ["STATUS", "DEPOSIT_FROZEN", "FEE_PAID", "STATUS"]
    again = client.post(f"{API}/allocations", body, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    assert again.json()["id"] == created["id"]

    assert client.post(f"{API}/allocations/{created['id']}/risk-fund").status_code == 409  # no money yet
    recharge(user, 30_000)
    response = client.post(f"{API}/allocations/{created['id']}/risk-fund")
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["riskFundFrozen"]) == ("PAID", 30_000)
    assert [a["id"] for a in client.get(f"{API}/allocations").json()] == [created["id"]]
    assert bank_balance(user.user_no) == (0, 1_030_001)
    books_balance()


@pytest.mark.parametrize("change,code", [
    ({"multiple": 2}, "invalid_multiple"), ({"deposit": 1_000_001.0}, "invalid_deposit"),
    ({"deposit": "1000001"}, "invalid_deposit"), ({"duration": 4}, "invalid_duration"),
    ({"productId": "x"}, "invalid_productId"),
])
def test_api_refuses_bad_input_naming_the_field(live, change, code):
    user = allocation_customer(2_000_000)
    body = {"productId": _monthly(), "deposit": 1_000_001, "multiple": 3, "duration": 3, **change}
    response = _client(user).post(f"{API}/allocations", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert not Allocation.objects.exists()


def test_api_needs_a_customer_and_hides_other_customers_allocations(live):
    owner, other = allocation_customer(2_000_000), allocation_customer(0)
    assert Client().get(f"{API}/allocations").status_code == 401
    body = {"productId": _monthly(), "deposit": 1_000_001, "multiple": 3, "duration": 3}
    created = _client(owner).post(f"{API}/allocations", body, content_type="application/json").json()
    assert _client(other).get(f"{API}/allocations/{created['id']}").status_code == 404
    assert _client(other).post(f"{API}/allocations/{created['id']}/risk-fund").status_code == 404
    assert _client(other).get(f"/allocation/mine/{created['id']}").status_code == 404


def test_pages_quote_confirm_pay_and_follow_the_allocation(live):
    user = allocation_customer(2_000_000)
    client = _client(user)
    page = client.get(f"/allocation/products/{_monthly()}", {"deposit": "10000.01", "multiple": "3",
                                                             "duration": "3"}).content.decode()
    assert 'id="confirm-form"' in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    form = {"product": _monthly(), "deposit": 1_000_001, "multiple": 3, "duration": 3, "pay_risk_fund": "on",
            "token": token}
    response = client.post("/allocation/apply", form)
    assert response.status_code == 302
    allocation = Allocation.objects.get(customer=user)
    assert response["Location"] == f"/allocation/mine/{allocation.pk}"
    assert client.post("/allocation/apply", form)["Location"] == response["Location"]  # a double submit
    detail = client.get(response["Location"]).content.decode()
    assert "Paid, waiting for review" in detail
    assert re.search(r'id="d-frozen">deposit ¥10,000.01, risk fund ¥300.00<', detail)
    assert "Fee paid" in detail and "-¥450.00" in detail
    assert 'id="risk-fund-form"' not in detail
    assert "style=" not in detail
    mine = client.get("/allocation/mine").content.decode()
    assert allocation.allocation_no in mine
    books_balance()


def test_page_refusal_goes_back_to_the_quote_with_the_reason(live):
    user = allocation_customer(100_000)
    client = _client(user)
    form = {"product": _monthly(), "deposit": 1_000_001, "multiple": 3, "duration": 3, "pay_risk_fund": "on",
            "token": "t-1"}
    response = client.post("/allocation/apply", form, follow=True)
    html = response.content.decode()
    assert "your available balance is ¥1,000.00" in html
    assert 'id="quote"' in html  # the quote again, to change it
    assert not Allocation.objects.exists()
