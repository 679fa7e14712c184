"""A hypothesis property against the bank over live HTTP: for any sequence of statuses,
top-ups, increases, profit withdrawals, fee runs and a final settlement, what the bank moved equals
what the allocation's fund records say, the bank's accounts sum to zero, and nothing stays
frozen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wanxin.allocation import domain, selectors, services
from wanxin.allocation.models import Allocation, Product, SubAccount
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank.models import Account
from wanxin.bank.staff import fund_platform_capital
from wanxin.core.errors import WanxinError

from .conftest import allocation_customer, bank_balance, books_balance

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
START = dt.datetime(2026, 9, 29, 10, 0, tzinfo=domain.BEIJING)  # a Tuesday: trading starts that day
DEPOSIT = 1_000_000  # the seeded daily product at ×2: allocated 2,000,000, fee 2,000 a day, risk fund 20,000

ops = st.lists(st.one_of(
    st.tuples(st.just("status"), st.integers(2_000_000, 4_000_000)),
    st.tuples(st.just("top_up"), st.integers(1_000, 150_000)),
    st.tuples(st.just("increase"), st.integers(1_000, 100_000)),
    st.tuples(st.just("withdraw"), st.integers(1, 100)),
    st.tuples(st.just("next_day"), st.just(0)),
), max_size=12)


def _system(name: str) -> int:
    account = Account.objects.using("bank").filter(account_no=name).first()
    return account.available if account else 0


def _sum(allocation: Allocation, *kinds: str) -> int:
    return allocation.fund_records.filter(kind__in=kinds).aggregate(t=Sum("amount"))["t"] or 0


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops, spare=st.integers(0, 60_000), final_share=st.integers(0, 200))
def test_the_bank_moves_what_the_fund_records_say(live, steps, spare, final_share):
    if _system("PLATFORM_CAPITAL") < 50_000_000:
        fund_platform_capital(platform_no=django_settings.PLATFORM_NO, amount=50_000_000, staff="test")
    operator, finance = f.operator(roles.ALLOCATION_OPERATOR), f.operator(roles.FINANCE_OFFICER)
    user = allocation_customer(DEPOSIT + 20_000 + 2_000 + spare)
    capital0, income0 = _system("PLATFORM_CAPITAL"), _system("PLATFORM_INCOME")
    net0 = sum(bank_balance(user.user_no))
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="daily").pk, deposit=DEPOSIT, multiple=2, duration=20))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-P{allocation.pk}", password="pw")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk, now=START)
    calendar = selectors.trading_calendar(START.date())
    day = START.date()
    for op, value in steps:
        a = Allocation.objects.get(pk=allocation.pk)
        try:
            if op == "status":
                services.status_record(operator=operator, allocation_id=a.pk, status=domain.AccountStatus(
                    day=day, total_assets=value, market_value=value, available_cash=0, profit_loss=0))
            elif op == "top_up":
                request = services.request_apply(customer=user, allocation_id=a.pk, kind=domain.TOP_UP, amount=value)
                services.request_approve(operator=operator, request_id=request.pk)
            elif op == "increase":
                request = services.request_apply(customer=user, allocation_id=a.pk, kind=domain.INCREASE,
                                                  amount=value)
                services.request_approve(operator=operator, request_id=request.pk)
            elif op == "withdraw":
                most = domain.withdrawable_profit(a.latest_total_assets or 0, a.total_capital)
                request = services.request_apply(customer=user, allocation_id=a.pk, kind=domain.PROFIT_WITHDRAWAL,
                                                  amount=max(most * value // 100, 1))
                services.request_approve(operator=operator, request_id=request.pk)
            else:
                day = calendar.after(day)
                services.fees_charge(today=day, now=dt.datetime.combine(day, dt.time(10), tzinfo=domain.BEIJING))
        except WanxinError:
            pass  # a refusal changes nothing; the property below still holds
    a = Allocation.objects.get(pk=allocation.pk)
    if a.status in domain.RUNNING:
        services.termination_apply(customer=user, allocation_id=a.pk, reason="end")
    a.refresh_from_db()
    settlement = services.settlement_propose(operator=operator, allocation_id=a.pk,
                                             final_total_assets=a.total_capital * final_share // 100)
    services.settlement_approve(checker=finance, settlement_id=settlement.pk)
    a.refresh_from_db()

    assert a.status == domain.SETTLED
    assert (a.deposit_frozen, a.risk_fund_frozen) == (0, 0)
    assert bank_balance(user.user_no)[1] == 0
    moved = _sum(a, "FEE_PAID", "FEE_REFUNDED", "PROFIT_WITHDRAWN", "SETTLE_PAID", "LOSS_TAKEN", "ARREARS_PAID")
    assert sum(bank_balance(user.user_no)) - net0 == moved
    assert _system("PLATFORM_CAPITAL") - capital0 == -_sum(a, "PROFIT_WITHDRAWN", "SETTLE_PAID", "LOSS_TAKEN")
    assert _system("PLATFORM_INCOME") - income0 == -_sum(a, "FEE_PAID", "FEE_REFUNDED", "ARREARS_PAID")
    assert a.fees_paid == -_sum(a, "FEE_PAID") - _sum(a, "FEE_REFUNDED")
    assert a.profit_withdrawn == _sum(a, "PROFIT_WITHDRAWN")
    books_balance()
