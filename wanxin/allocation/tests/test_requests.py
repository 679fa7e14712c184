"""Requests of a running allocation against the bank: a margin top-up lifts it back above
the warning line (lines recomputed from the whole deposit), a profit withdrawal is paid
from PLATFORM_CAPITAL up to the total assets above the total capital; one open request of
a kind; settlement then counts both."""

from __future__ import annotations

import datetime as dt

import pytest

from wanxin.allocation import domain, services
from wanxin.allocation.models import Allocation, Product, Request, SubAccount
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank.models import Account
from wanxin.core.errors import WanxinError

from .conftest import allocation_customer, bank_balance, books_balance
from .test_review import capital  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
AFTER_PAYING, FROZEN = 924_999, 1_030_001


def _capital() -> int:
    return Account.objects.using("bank").get(account_no="PLATFORM_CAPITAL").available


@pytest.fixture
def operator():
    return f.operator(roles.ALLOCATION_OPERATOR)


@pytest.fixture
def running(live, operator, capital):  # noqa: F811
    user = allocation_customer(2_000_000)
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=1_000_001, multiple=3, duration=3))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-R{allocation.pk}", password="pw")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=domain.BEIJING))
    return Allocation.objects.get(pk=allocation.pk)


def _status(operator, allocation, day, total):
    services.status_record(operator=operator, allocation_id=allocation.pk, status=domain.AccountStatus(
        day=day, total_assets=total, market_value=total, available_cash=0, profit_loss=0))


def test_a_top_up_recomputes_the_lines_and_lifts_the_allocation_above_the_warning_line(running, operator):
    user = running.customer
    _status(operator, running, dt.date(2026, 10, 8), 3_500_000)
    assert Allocation.objects.get(pk=running.pk).status == domain.WARNING
    request = services.request_apply(customer=user, allocation_id=running.pk, kind=domain.TOP_UP, amount=300_000)
    with pytest.raises(WanxinError) as err:
        services.request_apply(customer=user, allocation_id=running.pk, kind=domain.TOP_UP, amount=1_000)
    assert err.value.code == "request_open"
    services.request_approve(operator=operator, request_id=request.pk)
    a = Allocation.objects.get(pk=running.pk)
    # deposit 1,300,001: warning 3,000,003 + rhu(780,000.6); liquidation 3,000,003 + rhu(520,000.4)
    assert (a.deposit, a.deposit_frozen, a.warning_line, a.liquidation_line, a.total_capital) == (
        1_300_001, 1_300_001, 3_780_004, 3_520_003, 4_300_004)
    assert (a.latest_total_assets, a.status) == (3_800_000, domain.IN_PROGRESS)
    assert Request.objects.get(pk=request.pk).status == domain.R_DONE
    assert bank_balance(user.user_no) == (AFTER_PAYING - 300_000, FROZEN + 300_000)
    books_balance()


def test_profit_withdrawal_up_to_the_assets_above_the_capital(running, operator):
    user = running.customer
    _status(operator, running, dt.date(2026, 10, 8), 4_200_004)  # 200,000 above the total capital
    with pytest.raises(WanxinError) as err:
        services.request_apply(customer=user, allocation_id=running.pk, kind=domain.PROFIT_WITHDRAWAL, amount=200_001)
    assert err.value.code == "invalid_amount"
    capital_before = _capital()
    request = services.request_apply(customer=user, allocation_id=running.pk, kind=domain.PROFIT_WITHDRAWAL,
                                     amount=200_000)
    services.request_approve(operator=operator, request_id=request.pk)
    a = Allocation.objects.get(pk=running.pk)
    assert (a.profit_withdrawn, a.latest_total_assets) == (200_000, 4_000_004)
    assert _capital() == capital_before - 200_000
    assert bank_balance(user.user_no) == (AFTER_PAYING + 200_000, FROZEN)
    # Settled at the capital: settle = 0, the overall result is the withdrawn profit.
    services.termination_apply(customer=user, allocation_id=a.pk, reason="done")
    finance = f.operator(roles.FINANCE_OFFICER)
    settlement = services.settlement_propose(operator=operator, allocation_id=a.pk, final_total_assets=4_000_004)
    services.settlement_approve(checker=finance, settlement_id=settlement.pk)
    a.refresh_from_db()
    assert a.status == domain.SETTLED
    assert domain.overall_result(settlement.settle, a.profit_withdrawn) == 200_000
    assert bank_balance(user.user_no) == (AFTER_PAYING + 200_000 + FROZEN, 0)
    books_balance()


def test_rejected_requests_change_nothing(running, operator):
    request = services.request_apply(customer=running.customer, allocation_id=running.pk, kind=domain.TOP_UP,
                                     amount=1_000)
    with pytest.raises(WanxinError):
        services.request_reject(operator=operator, request_id=request.pk, reason="")
    services.request_reject(operator=operator, request_id=request.pk, reason="not now")
    assert Request.objects.get(pk=request.pk).status == domain.R_REJECTED
    with pytest.raises(WanxinError) as err:
        services.request_approve(operator=operator, request_id=request.pk)
    assert err.value.code == "bad_status"
    assert Allocation.objects.get(pk=running.pk).deposit == 1_000_001
    books_balance()


def test_a_monthly_allocation_is_extended_by_whole_months(running, operator):
    user = running.customer
    assert (running.start_date, running.end_date) == (dt.date(2026, 9, 29), dt.date(2026, 12, 29))
    with pytest.raises(WanxinError) as err:
        services.extension_apply(customer=user, allocation_id=running.pk, months=0)
    assert err.value.code == "invalid_months"
    request = services.extension_apply(customer=user, allocation_id=running.pk, months=2)
    services.request_approve(operator=operator, request_id=request.pk)
    a = Allocation.objects.get(pk=running.pk)
    assert (a.duration, a.end_date) == (5, dt.date(2027, 2, 28))  # 29 February 2027 does not exist
    assert Request.objects.get(pk=request.pk).status == domain.R_DONE
    dates = domain.charge_dates(a.product_type, a.start_date, a.duration, domain.TradingCalendar())
    assert dates[-2:] == [dt.date(2026, 12, 29), dt.date(2027, 1, 29)]


def test_an_increase_grows_allocated_fee_and_lines_within_the_exposure_limit(running, operator, settings):
    user = running.customer
    _status(operator, running, dt.date(2026, 10, 8), 4_000_004)
    request = services.request_apply(customer=user, allocation_id=running.pk, kind=domain.INCREASE, amount=100_000)
    settings.ALLOCATION_EXPOSURE_SHARE = "0.6"  # ¥30,000.00 of ¥50,000.00: not even this one fits
    with pytest.raises(WanxinError) as err:
        services.request_approve(operator=operator, request_id=request.pk)
    assert err.value.code == "invalid_exposure" and err.value.status == 409
    assert Request.objects.get(pk=request.pk).status == domain.R_PENDING
    settings.ALLOCATION_EXPOSURE_SHARE = "0.8"
    services.request_approve(operator=operator, request_id=request.pk)
    a = Allocation.objects.get(pk=running.pk)
    # deposit 1,100,001 at ×3: allocated 3,300,003; fee rhu(49,500.045); lines from both.
    assert (a.deposit, a.allocated, a.fee, a.warning_line, a.liquidation_line) == (
        1_100_001, 3_300_003, 49_500, 3_960_004, 3_740_003)
    assert (a.latest_total_assets, a.deposit_frozen, a.status) == (4_400_004, 1_100_001, domain.IN_PROGRESS)
    assert bank_balance(user.user_no) == (AFTER_PAYING - 100_000, FROZEN + 100_000)
    books_balance()
