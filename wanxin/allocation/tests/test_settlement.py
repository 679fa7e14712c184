"""Termination and settlement against the bank over live HTTP: a profit, a loss within the
deposit (with arrears taken after it), a loss into the risk fund, a loss beyond both with
arrears; maker-checker; the bank moves exactly what the settlement says and its books
balance; the customer's funds are free again."""

from __future__ import annotations

import datetime as dt

import pytest

from wanxin.allocation import domain, services
from wanxin.allocation.models import Allocation, Product, Settlement, SubAccount
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank.models import Account
from wanxin.core.errors import WanxinError
from wanxin.funds.models import DepositoryAccount

from .conftest import allocation_customer, bank_balance, bank_income, books_balance
from .test_review import capital  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
DEPOSIT, RISK_FUND, FEE, TOTAL_CAPITAL = 1_000_001, 30_000, 45_000, 4_000_004
AFTER_PAYING = 2_000_000 - DEPOSIT - RISK_FUND - FEE  # 924,999 available, 1,030,001 frozen


@pytest.fixture
def operator():
    return f.operator(roles.ALLOCATION_OPERATOR)


@pytest.fixture
def finance():
    return f.operator(roles.FINANCE_OFFICER)


def _capital() -> int:
    return Account.objects.using("bank").get(account_no="PLATFORM_CAPITAL").available


@pytest.fixture
def terminating(live, operator, capital):  # noqa: F811
    user = allocation_customer(2_000_000)
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=DEPOSIT, multiple=3, duration=3))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-S{allocation.pk}", password="pw")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=domain.BEIJING))
    services.termination_apply(customer=user, allocation_id=allocation.pk, reason="done trading")
    allocation.refresh_from_db()
    assert allocation.status == domain.TERMINATION_REQUESTED
    assert bank_balance(user.user_no) == (AFTER_PAYING, DEPOSIT + RISK_FUND)
    return allocation


def _settle(allocation, operator, finance, final: int) -> Allocation:
    settlement = services.settlement_propose(operator=operator, allocation_id=allocation.pk, final_total_assets=final)
    services.settlement_approve(checker=finance, settlement_id=settlement.pk)
    allocation.refresh_from_db()
    return allocation


def _end(allocation) -> tuple:
    return (allocation.status, allocation.deposit_frozen, allocation.risk_fund_frozen, allocation.arrears,
            allocation.debt)


def test_profit_is_paid_from_platform_capital_and_everything_released(terminating, operator, finance):
    capital_before, income_before = _capital(), bank_income()
    a = _settle(terminating, operator, finance, 4_200_004)
    assert _end(a) == (domain.SETTLED, 0, 0, 0, 0)
    assert bank_balance(a.customer.user_no) == (AFTER_PAYING + 200_000 + DEPOSIT + RISK_FUND, 0)
    assert _capital() == capital_before - 200_000
    assert bank_income() == income_before
    assert Settlement.objects.get(allocation=a).status == "DONE"
    assert SubAccount.objects.get(pk=a.sub_account_id).status == "RETIRED"
    account = DepositoryAccount.objects.get(user=a.customer)
    assert (account.available, account.frozen) == bank_balance(a.customer.user_no)
    assert domain.overall_result(200_000, a.profit_withdrawn) == 200_000
    books_balance()


def test_loss_within_the_deposit_then_arrears_from_what_stays_frozen(terminating, operator, finance):
    Allocation.objects.filter(pk=terminating.pk).update(arrears=36_000)  # a fee the balance could not cover
    capital_before, income_before = _capital(), bank_income()
    a = _settle(terminating, operator, finance, 3_700_004)
    assert _end(a) == (domain.SETTLED, 0, 0, 0, 0)
    assert _capital() == capital_before + 300_000
    assert bank_income() == income_before + 36_000
    assert bank_balance(a.customer.user_no) == (AFTER_PAYING + DEPOSIT - 300_000 - 36_000 + RISK_FUND, 0)
    kinds = list(a.fund_records.exclude(kind="STATUS").order_by("pk").values_list("kind", "amount"))
    assert kinds[-4:] == [("LOSS_TAKEN", -300_000), ("ARREARS_PAID", -36_000), ("RELEASED", 664_001),
                          ("RELEASED", RISK_FUND)]
    books_balance()


def test_loss_into_the_risk_fund(terminating, operator, finance):
    capital_before = _capital()
    a = _settle(terminating, operator, finance, 2_995_003)
    assert _end(a) == (domain.SETTLED, 0, 0, 0, 0)
    assert _capital() == capital_before + 1_005_001
    assert bank_balance(a.customer.user_no) == (AFTER_PAYING + 25_000, 0)
    books_balance()


def test_loss_beyond_both_with_arrears_becomes_debt(terminating, operator, finance):
    Allocation.objects.filter(pk=terminating.pk).update(arrears=36_000)
    capital_before, income_before = _capital(), bank_income()
    a = _settle(terminating, operator, finance, 2_900_000)
    # settle = 2,900,000 − 4,000,004 = −1,100,004: 1,000,001 + 30,000 taken, 70,003 beyond both.
    assert _end(a) == (domain.SETTLED, 0, 0, 36_000, 70_003)
    assert _capital() == capital_before + DEPOSIT + RISK_FUND
    assert bank_income() == income_before
    assert bank_balance(a.customer.user_no) == (AFTER_PAYING, 0)
    assert a.fund_records.filter(kind="DEBT").get().amount == -70_003
    books_balance()


def test_maker_checker_and_bad_input(terminating, operator, finance):
    with pytest.raises(WanxinError) as err:
        services.settlement_propose(operator=operator, allocation_id=terminating.pk, final_total_assets=-1)
    assert err.value.code == "invalid_final_total_assets"
    settlement = services.settlement_propose(operator=operator, allocation_id=terminating.pk,
                                             final_total_assets=4_000_004)
    with pytest.raises(WanxinError) as err:  # the proposer holds no finance permission
        services.settlement_approve(checker=operator, settlement_id=settlement.pk)
    assert err.value.status == 403
    both = f.operator(roles.ALLOCATION_OPERATOR, roles.FINANCE_OFFICER)
    services.settlement_reject(checker=finance, settlement_id=settlement.pk, reason="recount")
    terminating.refresh_from_db()
    assert terminating.status == domain.TERMINATION_REQUESTED
    mine = services.settlement_propose(operator=both, allocation_id=terminating.pk, final_total_assets=4_000_004)
    with pytest.raises(WanxinError) as err:
        services.settlement_approve(checker=both, settlement_id=mine.pk)
    assert err.value.code == "four_eyes"
    a = Allocation.objects.get(pk=terminating.pk)
    assert a.status == domain.SETTLEMENT_PROPOSED
    assert bank_balance(a.customer.user_no) == (AFTER_PAYING, DEPOSIT + RISK_FUND)
    services.settlement_approve(checker=finance, settlement_id=mine.pk)
    a.refresh_from_db()
    assert _end(a) == (domain.SETTLED, 0, 0, 0, 0)
    assert bank_balance(a.customer.user_no) == (2_000_000 - FEE, 0)  # settle = 0: only the fee was spent
    books_balance()


def test_a_liquidation_is_closed_by_operators(terminating, operator, finance):
    Allocation.objects.filter(pk=terminating.pk).update(status=domain.LIQUIDATION)
    a = _settle(terminating, operator, finance, 3_400_003)
    assert a.status == domain.SETTLED
    statuses = list(a.fund_records.filter(kind="STATUS").order_by("pk").values_list("status_to", flat=True))
    assert statuses[-3:] == [domain.TERMINATION_REQUESTED, domain.SETTLEMENT_PROPOSED, domain.SETTLED]
    books_balance()


def test_approval_needs_settle_allocation_from_a_checker_independent_of_the_proposer(terminating, operator, finance):
    """The dedicated money permission, and the duty guard: not an operator the proposer
    created, nor one the proposer gave the finance role; nothing moves on a refusal."""
    from django.contrib.auth.models import Group, Permission

    from wanxin.accounts.models import User
    from wanxin.audit.models import RoleGrant

    settlement = services.settlement_propose(operator=operator, allocation_id=terminating.pk,
                                             final_total_assets=4_000_004)
    # Disbursement approval alone is not settlement approval.
    payer = f.operator()
    payer.groups.add(Group.objects.create(name="disbursement only"))
    Group.objects.get(name="disbursement only").permissions.add(
        Permission.objects.get(codename="approve_disbursement"))
    payer = User.objects.get(pk=payer.pk)
    assert payer.has_perm("backoffice.approve_disbursement")
    with pytest.raises(WanxinError) as err:
        services.settlement_approve(checker=payer, settlement_id=settlement.pk)
    assert (err.value.status, err.value.code) == (403, "forbidden")

    created = f.operator(roles.FINANCE_OFFICER)
    User.objects.filter(pk=created.pk).update(created_by=operator)
    with pytest.raises(WanxinError) as err:
        services.settlement_approve(checker=User.objects.get(pk=created.pk), settlement_id=settlement.pk)
    assert (err.value.status, err.value.code) == (403, "created_by_maker")

    granted = f.operator(roles.FINANCE_OFFICER)
    RoleGrant.objects.create(operator=granted, role=roles.FINANCE_OFFICER, status=RoleGrant.Status.CONFIRMED,
                             proposed_by=f.operator(roles.SUPER_ADMIN), decided_by=operator)
    with pytest.raises(WanxinError) as err:
        services.settlement_approve(checker=granted, settlement_id=settlement.pk)
    assert (err.value.status, err.value.code) == (403, "granted_by_maker")

    a = Allocation.objects.get(pk=terminating.pk)
    assert a.status == domain.SETTLEMENT_PROPOSED
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.PROPOSED
    assert not a.bank_requests.filter(purpose__in=["SETTLE", "LOSS", "ARREARS", "RELEASE"]).exists()
    assert bank_balance(a.customer.user_no) == (AFTER_PAYING, DEPOSIT + RISK_FUND)

    services.settlement_approve(checker=finance, settlement_id=settlement.pk)
    a.refresh_from_db()
    assert a.status == domain.SETTLED
    assert bank_balance(a.customer.user_no) == (2_000_000 - FEE, 0)
    books_balance()


def test_a_refused_settlement_transfer_is_retried_from_the_desk_under_a_new_request_no(live, operator, finance,
                                                                                       capital):  # noqa: F811
    """The customer had not authorised ALLOCATION_SETTLE: the loss transfer out of the freeze
    is refused and everything stays frozen; once authorised, finance retries from the desk
    (a new requestNo), the settlement completes, and a second retry finds nothing to do."""
    from django.test import Client

    from wanxin.allocation.models import BankRequest

    user = allocation_customer(2_000_000, auth=["ALLOCATION", "ALLOCATION_FEE"])
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=DEPOSIT, multiple=3, duration=3))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-R{allocation.pk}", password="pw")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=domain.BEIJING))
    services.termination_apply(customer=user, allocation_id=allocation.pk, reason="done")
    capital_before = _capital()
    settlement = services.settlement_propose(operator=operator, allocation_id=allocation.pk,
                                             final_total_assets=3_700_004)  # a loss of 300,000 from the deposit
    services.settlement_approve(checker=finance, settlement_id=settlement.pk)
    a = Allocation.objects.get(pk=allocation.pk)
    refused = a.bank_requests.get(purpose="LOSS")
    assert (refused.status, refused.amount, a.status) == ("FAIL", 300_000, domain.SETTLEMENT_PROPOSED)
    assert not a.bank_requests.filter(purpose="RELEASE").exists()  # held until the loss is taken
    assert bank_balance(user.user_no) == (AFTER_PAYING, DEPOSIT + RISK_FUND)

    desk = Client()
    desk.force_login(finance)
    page = desk.get(f"/allocation/desk/{a.pk}")
    assert page.status_code == 200 and f"/allocation/desk/settlements/{settlement.pk}/retry" in page.content.decode()
    Account.objects.using("bank").filter(account_no=user.user_no).update(  # the customer authorises at the bank
        auth_list=["ALLOCATION", "ALLOCATION_FEE", "ALLOCATION_SETTLE"])
    response = desk.post(f"/allocation/desk/settlements/{settlement.pk}/retry")
    assert response.status_code in (302, 303)
    a.refresh_from_db()
    retried = a.bank_requests.filter(purpose="LOSS").exclude(pk=refused.pk).get()
    assert retried.request_no != refused.request_no and retried.status == "SUCCESS"
    assert retried.pre_request_no == refused.pre_request_no and retried.amount == 300_000
    assert BankRequest.objects.get(pk=refused.pk).status == "RETRIED"
    assert a.status == domain.SETTLED and (a.deposit_frozen, a.risk_fund_frozen) == (0, 0)
    assert bank_balance(user.user_no) == (2_000_000 - FEE - 300_000, 0)
    assert _capital() == capital_before + 300_000
    with pytest.raises(WanxinError) as err:  # idempotent: nothing left to retry
        services.settlement_retry(operator=finance, settlement_id=settlement.pk)
    assert err.value.code == "bad_status"
    assert a.bank_requests.filter(purpose="LOSS").count() == 2
    books_balance()
