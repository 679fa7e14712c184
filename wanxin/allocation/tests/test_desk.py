"""The operators' desk pages through a whole allocation: queue, call, approval with a
sub-account, a status under the warning line (the SMS goes), the chart, a top-up request,
settlement proposed by the operator and approved by finance; and who may use it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from wanxin.allocation import domain, selectors, services
from wanxin.allocation.models import Allocation, Product, Settlement, SubAccount
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.notifications import backends

from .conftest import allocation_customer, bank_balance, books_balance
from .test_review import capital  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_desk_takes_an_allocation_from_review_to_settlement(live, capital):  # noqa: F811
    operator, finance = f.operator(roles.ALLOCATION_OPERATOR), f.operator(roles.FINANCE_OFFICER)
    desk, checker = _as(operator), _as(finance)
    user = allocation_customer(2_000_000)
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=1_000_001, multiple=3, duration=3))
    account = SubAccount.objects.create(account_id="HS-D1", password="pw")
    page = desk.get("/allocation/desk/").content.decode()
    assert allocation.allocation_no in re.search(r'id="review".*?</section>', page, re.S).group(0)
    base = f"/allocation/desk/{allocation.pk}"
    desk.post(f"{base}/call", {"outcome": "CONFIRMED", "note": "ok"})
    desk.post(f"{base}/approve", {"sub_account": account.pk})
    a = Allocation.objects.get(pk=allocation.pk)
    assert a.status in (domain.APPROVED, domain.IN_PROGRESS) and a.sub_account_id == account.pk
    # Approved now (the real clock): trading may start on the next trading day; let it run today.
    Allocation.objects.filter(pk=a.pk).update(status=domain.IN_PROGRESS, start_date=selectors.today())
    backends.outbox_clear()
    today = selectors.today().isoformat()
    response = desk.post(f"{base}/status", {"day": today, "total_assets": "35,000.00", "market_value": "30000",
                                            "available_cash": "5000", "profit_loss": "-5,000.04"}, follow=True)
    assert "Status recorded." in response.content.decode()
    a.refresh_from_db()
    assert (a.status, a.latest_total_assets) == (domain.WARNING, 3_500_000)
    assert len(backends.outbox) == 1 and backends.outbox[0].mobile == user.mobile
    detail = desk.get(base).content.decode()
    assert '<polyline class="assets"' in detail and "-¥5,000.04" in detail
    assert "style=" not in detail
    bad = desk.post(f"{base}/status", {"day": today, "total_assets": "1", "market_value": "2", "available_cash": "0",
                                       "profit_loss": "0"}, follow=True).content.decode()
    assert "The market value cannot be above the total assets." in bad
    queue = desk.get("/allocation/desk/").content.decode()
    assert a.allocation_no in re.search(r'id="at-risk".*?</section>', queue, re.S).group(0)

    services.termination_apply(customer=user, allocation_id=a.pk, reason="stop")
    desk.post(f"{base}/propose", {"final_total_assets": "35000"})
    settlement = Settlement.objects.get(allocation=a)
    assert settlement.settle == 3_500_000 - 4_000_004
    assert desk.post(f"/allocation/desk/settlements/{settlement.pk}/approve").status_code == 403  # not finance
    checker.post(f"/allocation/desk/settlements/{settlement.pk}/approve")
    a.refresh_from_db()
    assert a.status == domain.SETTLED
    # Loss 500,004 from the deposit; the rest of the deposit and the risk fund released.
    assert bank_balance(user.user_no) == (2_000_000 - 45_000 - 500_004, 0)
    books_balance()


def test_only_allocation_operators_use_the_desk(live):
    assert Client().get("/allocation/desk/").status_code == 302  # to the back-office login
    assert _as(allocation_customer(0)).get("/allocation/desk/").status_code in (302, 403)
    assert _as(f.operator(roles.CUSTOMER_SERVICE)).get("/allocation/desk/").status_code == 403
