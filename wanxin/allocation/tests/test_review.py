"""Review: the call, approval with a sub-account within the exposure limit, rejection that
unfreezes and refunds through the bank, and revealing the sub-account password."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings

from wanxin.allocation import domain, services
from wanxin.allocation.models import Allocation, Holiday, Product, SubAccount
from wanxin.audit import roles
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f
from wanxin.bank.models import Account
from wanxin.bank.staff import fund_platform_capital
from wanxin.core.errors import WanxinError

from .conftest import allocation_customer, bank_balance, bank_income, books_balance

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
BJ = domain.BEIJING
DEPOSIT, ALLOCATED, RISK_FUND, FEE = 1_000_001, 3_000_003, 30_000, 45_000


@pytest.fixture
def operator():
    return f.operator(roles.ALLOCATION_OPERATOR)


@pytest.fixture
def capital():
    """PLATFORM_CAPITAL holds exactly ¥50,000.00 at the bank: at a share of 0.8 the limit is ¥40,000.00."""
    account = Account.objects.using("bank").filter(account_no="PLATFORM_CAPITAL").first()
    held = account.available if account else 0
    if held < 5_000_000:
        fund_platform_capital(platform_no=django_settings.PLATFORM_NO, amount=5_000_000 - held, staff="test")
    return Account.objects.using("bank").get(account_no="PLATFORM_CAPITAL").available


def _paid(balance: int = 2_000_000, **change) -> Allocation:
    user = allocation_customer(balance)
    data = {"product_id": Product.objects.get(code="monthly").pk, "deposit": DEPOSIT, "multiple": 3, "duration": 3,
            **change}
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(**data))
    allocation.refresh_from_db()
    assert allocation.status == domain.PAID
    return allocation


def test_approval_needs_a_confirmed_call_assigns_the_sub_account_and_starts_trading(live, operator, capital):
    assert capital == 5_000_000
    allocation = _paid()
    account = SubAccount.objects.create(account_id="HS-1001", password="Trade-001")
    # Tuesday 29 September 2026, 14:44 Beijing: trading starts that day.
    at = dt.datetime(2026, 9, 29, 14, 44, tzinfo=BJ)
    with pytest.raises(WanxinError) as err:
        services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk, now=at)
    assert err.value.code == "no_call"
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="NO_ANSWER")
    with pytest.raises(WanxinError):
        services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk, now=at)
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED", note="wants ×3")
    Holiday.objects.create(day=dt.date(2026, 10, 1), name="国庆节")
    approved = services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                           now=at)
    approved.refresh_from_db()
    assert (approved.status, approved.start_date, approved.end_date) == (
        domain.IN_PROGRESS, dt.date(2026, 9, 29), dt.date(2026, 12, 29))
    statuses = list(approved.fund_records.filter(kind="STATUS").order_by("pk").values_list("status_to", flat=True))
    assert statuses[-2:] == [domain.APPROVED, domain.IN_PROGRESS]
    assert approved.sub_account_id == account.pk
    assert SubAccount.objects.get(pk=account.pk).status == "ASSIGNED"
    assert AuditLog.objects.filter(action="allocation.approve", target_id=str(allocation.pk)).exists()


def test_after_1445_trading_starts_the_next_trading_day(live, operator, capital):
    allocation = _paid()
    account = SubAccount.objects.create(account_id="HS-1002", password="Trade-002")
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    Holiday.objects.bulk_create(Holiday(day=dt.date(2026, 10, d)) for d in range(1, 8))
    approved = services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                           now=dt.datetime(2026, 9, 30, 14, 45, tzinfo=BJ))
    assert (approved.status, approved.start_date, approved.end_date) == (
        domain.APPROVED, dt.date(2026, 10, 8), dt.date(2027, 1, 8))
    assert services.allocations_start(today=dt.date(2026, 10, 7)) == 0
    assert services.allocations_start(today=dt.date(2026, 10, 8)) == 1
    approved.refresh_from_db()
    assert approved.status == domain.IN_PROGRESS


def test_approval_beyond_the_exposure_limit_is_refused_with_the_figures(live, operator, capital, settings):
    settings.ALLOCATION_EXPOSURE_SHARE = "0.8"  # limit: ¥40,000.00 of ¥50,000.00
    first, second = _paid(), _paid()  # each allocates ¥30,000.03
    for allocation in (first, second):
        services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    a1 = SubAccount.objects.create(account_id="HS-2001", password="p1")
    a2 = SubAccount.objects.create(account_id="HS-2002", password="p2")
    at = dt.datetime(2026, 9, 29, 10, 0, tzinfo=BJ)
    with pytest.raises(WanxinError) as err:  # the other paid one already counts
        services.allocation_approve(operator=operator, allocation_id=first.pk, sub_account_id=a1.pk, now=at)
    assert err.value.status == 409 and err.value.code == "invalid_exposure"
    assert "¥60,000.06" in err.value.message and "¥40,000.00" in err.value.message
    second_allocation = Allocation.objects.get(pk=second.pk)
    services.allocation_reject(operator=operator, allocation_id=second_allocation.pk, reason="limit")
    approved = services.allocation_approve(operator=operator, allocation_id=first.pk, sub_account_id=a1.pk, now=at)
    assert approved.status == domain.IN_PROGRESS
    assert SubAccount.objects.get(pk=a2.pk).status == "AVAILABLE"


def test_rejection_unfreezes_everything_and_refunds_the_fee(live, operator):
    income = bank_income()
    allocation = _paid()
    user_no = allocation.customer.user_no
    assert bank_balance(user_no) == (2_000_000 - DEPOSIT - RISK_FUND - FEE, DEPOSIT + RISK_FUND)
    with pytest.raises(WanxinError):
        services.allocation_reject(operator=operator, allocation_id=allocation.pk, reason="   ")
    services.allocation_reject(operator=operator, allocation_id=allocation.pk, reason="could not reach the customer")
    allocation.refresh_from_db()
    assert allocation.status == domain.REJECTED
    assert (allocation.deposit_frozen, allocation.risk_fund_frozen, allocation.fees_paid) == (0, 0, 0)
    assert bank_balance(user_no) == (2_000_000, 0)
    assert bank_income() == income
    kinds = list(allocation.fund_records.order_by("pk").values_list("kind", "amount"))
    assert kinds[-3:] == [("RELEASED", DEPOSIT), ("RELEASED", RISK_FUND), ("FEE_REFUNDED", FEE)]
    books_balance()


def test_operators_only_and_the_wrong_role_is_refused(live):
    allocation = _paid()
    for actor in (f.operator(roles.CUSTOMER_SERVICE), allocation.customer):
        with pytest.raises(WanxinError) as err:
            services.call_record(operator=actor, allocation_id=allocation.pk, outcome="CONFIRMED")
        assert err.value.status == 403
    assert not allocation.calls.exists()


def test_the_owner_reveals_the_password_with_the_login_password(live, operator, capital):
    allocation = _paid()
    account = SubAccount.objects.create(account_id="HS-3001", password="Trade-3001")
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=BJ))
    customer = allocation.customer
    with pytest.raises(WanxinError) as err:
        services.sub_account_reveal(customer=customer, allocation_id=allocation.pk, password="wrong")
    assert err.value.code == "invalid_password"
    shown = services.sub_account_reveal(customer=customer, allocation_id=allocation.pk, password="x-pass-9")
    assert (shown.account_id, shown.password) == ("HS-3001", "Trade-3001")
    other = allocation_customer(0)
    with pytest.raises(WanxinError) as err:
        services.sub_account_reveal(customer=other, allocation_id=allocation.pk, password="x-pass-9")
    assert err.value.status == 404
