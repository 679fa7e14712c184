"""What the database itself enforces, the seeded products, and the encrypted password."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from wanxin.allocation import domain
from wanxin.allocation.models import Allocation, Product, Request, SubAccount

pytestmark = pytest.mark.django_db
User = get_user_model()


def _customer():
    return User.objects.create_user(username=f"a{secrets.token_hex(4)}", password="x-pass-9",
                                    mobile=f"138{secrets.randbelow(10**8):08d}")


def _allocation(product: Product, **fields) -> Allocation:
    values = {"allocation_no": f"AL{secrets.token_hex(6)}", "customer": _customer(), "product": product,
              "product_type": product.type, "multiple": 3, "rate": Decimal("0.015"), "duration": 1,
              "risk_fund_rate": product.risk_fund_rate, "warning_pct": product.warning_pct,
              "liquidation_pct": product.liquidation_pct, "deposit": 1_000_000, "allocated": 3_000_000,
              "risk_fund": 30_000, "fee": 45_000, "warning_line": 3_600_000, "liquidation_line": 3_400_000}
    return Allocation.objects.create(**{**values, **fields})


def test_the_seeded_daily_and_monthly_products_follow_the_rules():
    daily, monthly = Product.objects.get(code="daily"), Product.objects.get(code="monthly")
    assert (daily.type, monthly.type) == (domain.DAILY, domain.MONTHLY)
    for product in (daily, monthly):
        terms = domain.check_product(product.terms())
        assert terms.multiples and terms.durations
    assert monthly.terms().rates[3] == Decimal("0.015000")


@pytest.mark.parametrize("change", [
    {"liquidation_pct": Decimal("0.6")},  # equal to the warning line
    {"liquidation_pct": Decimal("0.7")},
    {"liquidation_pct": Decimal("0")},
    {"warning_pct": Decimal("1"), "liquidation_pct": Decimal("0.4")},
    {"deposit_min": 0},
    {"deposit_max": 1},
    {"type": "WEEKLY"},
])
def test_the_database_refuses_products_whose_lines_or_limits_cannot_work(change):
    product = Product.objects.get(code="monthly")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(**change)


def test_one_open_request_of_each_kind(django_user_model):
    allocation = _allocation(Product.objects.get(code="monthly"), status=domain.IN_PROGRESS)
    Request.objects.create(allocation=allocation, kind=domain.TOP_UP, amount=100_00)
    Request.objects.create(allocation=allocation, kind=domain.TERMINATION, reason="done")
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.create(allocation=allocation, kind=domain.TOP_UP, amount=200_00)
    Request.objects.filter(allocation=allocation, kind=domain.TOP_UP).update(status=domain.R_DONE)
    Request.objects.create(allocation=allocation, kind=domain.TOP_UP, amount=200_00)  # the first is closed


def test_a_sub_account_serves_one_live_allocation_and_its_password_is_stored_encrypted():
    account = SubAccount.objects.create(account_id="HS0001", password="trade-Pw-1")
    with connection.cursor() as cur:
        cur.execute("SELECT password FROM allocation_subaccount WHERE id = %s", [account.pk])
        stored = cur.fetchone()[0]
    assert stored.startswith("v1:") and "trade-Pw-1" not in stored
    assert SubAccount.objects.get(pk=account.pk).password == "trade-Pw-1"
    product = Product.objects.get(code="monthly")
    _allocation(product, status=domain.IN_PROGRESS, sub_account=account)
    with pytest.raises(IntegrityError), transaction.atomic():
        _allocation(product, status=domain.APPROVED, sub_account=account)
    _allocation(product, status=domain.SETTLED, sub_account=account)  # a settled one may have had it


@pytest.mark.parametrize("change", [
    {"status": "RUNNING"}, {"warning_line": 5_000_000}, {"liquidation_line": 3_700_000}, {"deposit_frozen": -1},
    {"deposit_frozen": 1_000_001}, {"arrears": -5},
])
def test_the_database_refuses_an_impossible_allocation(change):
    with pytest.raises(IntegrityError), transaction.atomic():
        _allocation(Product.objects.get(code="monthly"), **change)
