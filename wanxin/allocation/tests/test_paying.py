"""Applying and paying against the bank over live HTTP: deposit and risk fund frozen, the
first fee charged, deposit-only then making up the risk fund, failures that cancel and
release, refusals that change nothing. The bank's books balance after each."""

from __future__ import annotations

import pytest
from django.db.models import F

from wanxin.allocation import domain, services
from wanxin.allocation.models import Allocation, BankRequest, FundRecord, Product
from wanxin.core.errors import WanxinError
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount

from .conftest import (
    allocation_customer,
    bank_balance,
    bank_income,
    books_balance,
    customer,
    recharge,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

# The seeded monthly product: ×3 at 1.5% a month, risk fund 1%, lines 60% / 40% of the deposit.
DEPOSIT, ALLOCATED, RISK_FUND, FEE = 1_000_001, 3_000_003, 30_000, 45_000  # rhu(30,000.03), rhu(45,000.045)


def _apply(user, *, pay_risk_fund: bool = True, token: str = "", **change) -> Allocation:
    data = {"product_id": Product.objects.get(code="monthly").pk, "deposit": DEPOSIT, "multiple": 3, "duration": 3,
            "pay_risk_fund": pay_risk_fund, "token": token, **change}
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(**data))
    allocation.refresh_from_db()
    return allocation


def _kinds(allocation: Allocation) -> list[tuple[str, int]]:
    return list(allocation.fund_records.order_by("pk").values_list("kind", "amount"))


def _mirror(user) -> tuple[int, int]:
    account = DepositoryAccount.objects.get(user=user)
    return account.available, account.frozen


def test_paying_deposit_and_risk_fund_freezes_both_and_charges_the_first_fee(live):
    user = allocation_customer(2_000_000)
    income = bank_income()
    allocation = _apply(user)
    assert allocation.status == domain.PAID
    assert (allocation.allocated, allocation.risk_fund, allocation.fee) == (ALLOCATED, RISK_FUND, FEE)
    assert (allocation.warning_line, allocation.liquidation_line) == (3_600_004, 3_400_003)
    assert (allocation.deposit_frozen, allocation.risk_fund_frozen, allocation.fees_paid) == (DEPOSIT, RISK_FUND, FEE)
    assert bank_balance(user.user_no) == (2_000_000 - DEPOSIT - RISK_FUND - FEE, DEPOSIT + RISK_FUND)
    assert _mirror(user) == bank_balance(user.user_no)
    assert bank_income() - income == FEE
    assert _kinds(allocation) == [("STATUS", 0), ("DEPOSIT_FROZEN", DEPOSIT), ("FEE_PAID", -FEE),
                                  ("RISK_FUND_FROZEN", RISK_FUND), ("STATUS", 0)]
    assert allocation.fund_records.last().status_to == domain.PAID
    assert set(allocation.bank_requests.values_list("purpose", "status")) == {
        ("DEPOSIT", "SUCCESS"), ("RISK_FUND", "SUCCESS"), ("FEE", "SUCCESS")}
    books_balance()


def test_deposit_only_then_make_up_the_risk_fund(live):
    user = allocation_customer(DEPOSIT + FEE)  # exactly the deposit and the fee
    allocation = _apply(user, pay_risk_fund=False)
    assert allocation.status == domain.DEPOSIT_PAID
    assert (allocation.deposit_frozen, allocation.risk_fund_frozen, allocation.risk_fund_due) == (DEPOSIT, 0, RISK_FUND)
    assert bank_balance(user.user_no) == (0, DEPOSIT)
    with pytest.raises(WanxinError, match=r"¥300\.00") as err:
        services.risk_fund_make_up(customer=user, allocation_id=allocation.pk)
    assert err.value.code == "insufficient_balance"
    assert not allocation.bank_requests.filter(purpose="RISK_FUND").exists()

    recharge(user, 50_000)
    services.risk_fund_make_up(customer=user, allocation_id=allocation.pk)
    allocation.refresh_from_db()
    assert allocation.status == domain.PAID
    assert (allocation.risk_fund_frozen, allocation.risk_fund_due) == (RISK_FUND, 0)
    assert bank_balance(user.user_no) == (20_000, DEPOSIT + RISK_FUND)
    assert _mirror(user) == bank_balance(user.user_no)
    with pytest.raises(WanxinError) as err:  # nothing left to make up
        services.risk_fund_make_up(customer=user, allocation_id=allocation.pk)
    assert err.value.code == "bad_status"
    assert [r.status_to for r in allocation.fund_records.filter(kind="STATUS").order_by("pk")] == [
        domain.APPLIED, domain.DEPOSIT_PAID, domain.PAID]
    books_balance()


def test_a_risk_fund_the_bank_refuses_leaves_the_allocation_deposit_only(live):
    user = allocation_customer(DEPOSIT + FEE + 29_999)  # a fen short of the risk fund
    DepositoryAccount.objects.filter(user=user).update(available=F("available") + 1)  # a stale mirror
    allocation = _apply(user)
    assert allocation.status == domain.DEPOSIT_PAID
    assert allocation.bank_requests.get(purpose="RISK_FUND").status == "FAIL"
    assert "30042" in allocation.fund_records.get(kind="STATUS", status_to=domain.DEPOSIT_PAID).note
    assert bank_balance(user.user_no) == (29_999, DEPOSIT)
    books_balance()


def test_a_refused_fee_cancels_and_releases_every_freeze(live):
    # The platform believes the fee is authorised; the bank knows it is not (30002).
    user = allocation_customer(2_000_000, auth=["ALLOCATION"])
    DepositoryAccount.objects.filter(user=user).update(auth_list=["ALLOCATION", "ALLOCATION_FEE"])
    income = bank_income()
    allocation = _apply(user)
    assert allocation.status == domain.CANCELLED
    assert (allocation.deposit_frozen, allocation.risk_fund_frozen, allocation.fees_paid) == (0, 0, 0)
    assert bank_balance(user.user_no) == (2_000_000, 0)
    assert _mirror(user) == (2_000_000, 0)
    assert bank_income() == income
    assert "30002" in allocation.fund_records.get(kind="STATUS", status_to=domain.CANCELLED).note
    assert list(allocation.fund_records.filter(kind="RELEASED").values_list("amount", flat=True)) == [DEPOSIT]
    assert not allocation.bank_requests.filter(purpose="RISK_FUND").exists()
    books_balance()


def test_a_refused_deposit_cancels_with_nothing_taken(live):
    user = allocation_customer(500_000)
    DepositoryAccount.objects.filter(user=user).update(available=2_000_000)  # a stale mirror
    allocation = _apply(user)
    assert allocation.status == domain.CANCELLED
    assert "30042" in allocation.fund_records.get(kind="STATUS", status_to=domain.CANCELLED).note
    assert bank_balance(user.user_no) == (500_000, 0)
    assert list(allocation.bank_requests.values_list("purpose", flat=True)) == ["DEPOSIT"]
    books_balance()


@pytest.mark.parametrize("case,code", [
    ("no_account", "no_account"), ("not_authorised", "not_authorised"), ("multiple", "invalid_multiple"),
    ("deposit", "invalid_deposit"), ("balance", "insufficient_balance"), ("product", "invalid_productId"),
])
def test_refusals_change_nothing(live, case, code):
    if case == "no_account":
        user = customer(account=False)
    elif case == "not_authorised":
        user = allocation_customer(2_000_000, auth=["TENDER"])
    else:
        user = allocation_customer(1_000_000)
    change = {"multiple": {"multiple": 2}, "deposit": {"deposit": 499_999}, "product": {"product_id": 999_999},
              "balance": {"deposit": 1_000_000}}.get(case, {})
    requests_before = DepositoryRequest.objects.count()
    with pytest.raises(WanxinError) as err:
        _apply(user, **change)
    assert err.value.code == code
    assert Allocation.objects.count() == 0
    assert DepositoryRequest.objects.count() == requests_before


def test_the_same_token_applies_once(live):
    user = allocation_customer(3_000_000)
    first = _apply(user, token="form-1")
    again = _apply(user, token="form-1")
    assert again.pk == first.pk
    assert BankRequest.objects.filter(allocation__customer=user, purpose="DEPOSIT").count() == 1
    assert bank_balance(user.user_no)[1] == DEPOSIT + RISK_FUND


def test_another_customers_allocation_is_not_found(live):
    owner, other = allocation_customer(DEPOSIT + FEE), allocation_customer(100_000)
    allocation = _apply(owner, pay_risk_fund=False)
    with pytest.raises(WanxinError) as err:
        services.risk_fund_make_up(customer=other, allocation_id=allocation.pk)
    assert err.value.status == 404
    assert FundRecord.objects.filter(allocation=allocation, kind="RISK_FUND_FROZEN").count() == 0
