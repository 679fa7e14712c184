"""The allocations level against the real bank over HTTP: running allocations (paid, approved,
topped up; one rejected and released) reconcile to zero; a freeze the bank made for a
customer's allocation that the platform never recorded, and a freeze the platform recorded
that the bank never made, are each found at this level, exactly once, with the figures; a lost write of an allocation's own record, which only this level can see,
is found alone; re-query, explain and close work on it as on any difference."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from wanxin.allocation import domain as allocation_domain
from wanxin.allocation import services as allocation
from wanxin.allocation.models import Allocation, Product, SubAccount
from wanxin.allocation.models import FundRecord as AllocationRecord
from wanxin.allocation.tests.conftest import _fast, _products, books_balance  # noqa: F401  (fixtures)
from wanxin.audit import roles
from wanxin.audit.guards import SYSTEM
from wanxin.backoffice.tests import factories as f
from wanxin.bank import staff
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.tests.conftest import bank_balance, make_customer, open_account, recharged
from wanxin.lending import services as lending
from wanxin.lending.tests.conftest import collecting
from wanxin.lending.tests.conftest import customer as lending_customer
from wanxin.protocol import codes
from wanxin.reconciliation import levels, services
from wanxin.reconciliation.models import Difference

from .conftest import age, yesterday

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

D = Difference.Kind
TENDER = 1_000_00
APPROVED_AT = dt.datetime(2026, 9, 29, 10, 0, tzinfo=allocation_domain.BEIJING)  # a trading day before 14:45


def found(day: dt.date) -> set[tuple[str, str]]:
    return {(d.kind, d.request_no or d.account) for d in Difference.objects.filter(day__date=day)}


@pytest.fixture
def operator():
    return f.operator(roles.ALLOCATION_OPERATOR)


def applied(user, deposit: int = 1_000_001, **choices) -> Allocation:
    """Applied and paid through the bank: deposit frozen, first fee, risk fund frozen (unless
    ``pay_risk_fund=False``)."""
    product = Product.objects.get(code="monthly")
    return allocation.allocation_apply(customer=user, data=allocation.ApplicationInput(
        product_id=product.pk, deposit=deposit, multiple=3, duration=3, **choices))


def running(user, operator) -> Allocation:
    paid = applied(user)
    allocation.call_record(operator=operator, allocation_id=paid.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-RC{paid.pk}", password="pw")
    allocation.allocation_approve(operator=operator, allocation_id=paid.pk, sub_account_id=account.pk, now=APPROVED_AT)
    return Allocation.objects.get(pk=paid.pk)


def allocation_customer(amount: int):
    """A customer opened through the real gateway (ALLOCATION authorised) and recharged."""
    user = make_customer()
    open_account(user)
    recharged(user, amount)
    return user


@pytest.fixture
def allocations(live, operator):
    """Two days ago the bank's staff funded PLATFORM_CAPITAL (the exposure limit needs it): that
    day is reconciled and the funding explained. Yesterday: A's allocation runs and is topped
    up, and A also holds a tender freeze on a loan (a freeze no allocation owns); B's is
    rejected before trading (freezes released, fee refunded)."""
    staff.fund_platform_capital(platform_no=settings.PLATFORM_NO, amount=5_000_000, staff="teller")
    age(1)
    a, b = allocation_customer(2_000_000), allocation_customer(1_500_000)
    first = running(a, operator)
    top_up = allocation.request_apply(customer=a, allocation_id=first.pk, kind=allocation_domain.TOP_UP,
                                      amount=300_000)
    allocation.request_approve(operator=operator, request_id=top_up.pk)
    loan = collecting(lending_customer(kyc_limit=1_000_000_00), f.operator(roles.LOAN_REVIEWER))
    lending.tender_place(investor=a, project_id=loan.pk, amount=TENDER)
    second = applied(b)
    allocation.allocation_reject(operator=operator, allocation_id=second.pk, reason="Not reachable")
    first.refresh_from_db()
    assert (first.status, first.deposit_frozen, first.risk_fund_frozen) == (allocation_domain.IN_PROGRESS,
                                                                            1_300_001, first.risk_fund)
    assert Allocation.objects.get(pk=second.pk).status == allocation_domain.REJECTED
    return a, b, first


def reconcile_days_in_order(finance) -> None:
    """Two days ago (the capital funding explained), then yesterday."""
    before = yesterday() - dt.timedelta(days=1)
    services.day_reconcile(day=before, actor=SYSTEM)
    funding = Difference.objects.get(day__date=before, kind=D.MISSING_ON_PLATFORM)
    services.difference_explain(actor=finance, difference_id=funding.pk, comment="Capital injected by the bank")
    services.day_reconcile(day=yesterday(), actor=SYSTEM)


def test_the_allocations_level_is_checked():
    assert levels.ALLOCATIONS.checked
    assert all(level.checked for level in levels.LEVELS)


def test_a_day_with_running_allocations_reconciles_to_zero(allocations, finance):
    a, _b, first = allocations
    age(1)
    reconcile_days_in_order(finance)
    assert found(yesterday()) == set()
    # A's frozen balance at the bank: its allocation's deposit, top-up and risk fund, and the tender.
    assert bank_balance(a.user_no)[1] == first.deposit_frozen + first.risk_fund_frozen + TENDER
    books_balance()


def test_a_freeze_the_platform_never_recorded_is_found_at_the_allocation_level(allocations, finance, bank):
    a, _b, first = allocations
    # Sent straight to the bank for A's allocation: frozen there, in no platform record.
    forged = bank.call("USER_PRE_TRANSACTION", userNo=a.user_no, bizType="ALLOCATION", amount=50_00,
                       remark=first.allocation_no)
    assert forged["respCode"] == codes.SUCCESS
    age(1)
    reconcile_days_in_order(finance)

    assert found(yesterday()) == {
        (D.MISSING_ON_PLATFORM, forged["requestNo"]), (D.BALANCE_DIFFERS, a.user_no),
        (D.ALLOCATION_DIFFERS, a.user_no),
    }
    difference = Difference.objects.get(day__date=yesterday(), kind=D.ALLOCATION_DIFFERS)
    held = first.deposit_frozen + first.risk_fund_frozen
    assert (difference.bank_frozen, difference.platform_frozen) == (held + TENDER + 50_00, held + TENDER)
    assert (difference.bank_amount, difference.platform_amount) == (held + 50_00, held)
    assert difference.allocations == first.allocation_no
    books_balance()


def test_a_freeze_the_bank_never_made_is_found_at_the_allocation_level(live, settings):
    """The platform records a risk-fund freeze the bank never saw: its request never reached
    the bank, then a forged notification said it succeeded."""
    c = allocation_customer(1_500_000)
    paid = applied(c, pay_risk_fund=False)
    paid.refresh_from_db()
    assert paid.status == allocation_domain.DEPOSIT_PAID
    live_bank, settings.BANK_URL = settings.BANK_URL, "http://127.0.0.1:9/bank"  # nothing listens there
    made_up = allocation.risk_fund_make_up(customer=c, allocation_id=paid.pk)
    settings.BANK_URL = live_bank
    assert DepositoryRequest.objects.get(request_no=made_up.request_no).status == "PENDING"
    depository.result_apply(resp_data={"requestNo": made_up.request_no, "respCode": codes.SUCCESS,
                                       "respMsg": "forged", "status": "SUCCESS"}, source="notify")
    paid.refresh_from_db()
    assert (paid.status, paid.risk_fund_frozen) == (allocation_domain.PAID, paid.risk_fund)
    age(1)
    services.day_reconcile(day=yesterday(), actor=SYSTEM)

    assert found(yesterday()) == {(D.MISSING_AT_BANK, made_up.request_no), (D.BALANCE_DIFFERS, c.user_no),
                                  (D.ALLOCATION_DIFFERS, c.user_no)}
    difference = Difference.objects.get(day__date=yesterday(), kind=D.ALLOCATION_DIFFERS)
    assert (difference.bank_amount, difference.platform_amount) == (paid.deposit, paid.deposit + paid.risk_fund)
    assert bank_balance(c.user_no)[1] == difference.bank_frozen == paid.deposit


def test_a_lost_allocation_record_only_this_level_can_see(allocations, finance):
    """A's customer records and the bank agree; the allocation's own record of its risk-fund
    freeze is lost (a write that never happened, made here by deleting the row)."""
    a, _b, first = allocations
    AllocationRecord.objects.filter(allocation=first, kind=AllocationRecord.Kind.RISK_FUND_FROZEN).delete()
    age(1)
    reconcile_days_in_order(finance)
    assert found(yesterday()) == {(D.ALLOCATION_DIFFERS, a.user_no)}
    difference = Difference.objects.get(day__date=yesterday())
    held = first.deposit_frozen + first.risk_fund_frozen
    assert (difference.bank_amount, difference.platform_amount) == (held, held - first.risk_fund)


def test_requery_explain_and_close_an_allocation_difference(allocations, finance, bank, client):
    a, _b, first = allocations
    assert bank.call("USER_PRE_TRANSACTION", userNo=a.user_no, bizType="ALLOCATION", amount=10_00,
                     remark=first.allocation_no)["respCode"] == codes.SUCCESS
    age(1)
    reconcile_days_in_order(finance)
    day = yesterday()
    difference = Difference.objects.get(day__date=day, kind=D.ALLOCATION_DIFFERS)

    # The day's page shows it among the other differences, labelled, with its allocation.
    client.force_login(finance)
    page = client.get(f"/backoffice/reconciliation/{day.isoformat()}/").content.decode()
    assert f'id="difference-{difference.pk}"' in page
    assert "Allocation freezes differ" in page and first.allocation_no in page

    # Nothing pending to look up: the platform's view stays short of the bank's, still open.
    difference = services.difference_requery(actor=finance, difference_id=difference.pk)
    assert difference.status == "OPEN"
    assert "0 pending requests" in difference.bank_answer
    for other in Difference.objects.filter(day__date=day, status="OPEN"):
        services.difference_explain(actor=finance, difference_id=other.pk, comment="Freeze made at the bank's desk")
    assert services.day_close(actor=finance, day=day).status == "CLOSED"
    assert Difference.objects.get(pk=difference.pk).status == "EXPLAINED"

    # The label in the site's default language (last: the request leaves the thread in Chinese).
    chinese = client.get(f"/backoffice/reconciliation/{day.isoformat()}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "配资冻结不符" in chinese.content.decode() and "Allocation freezes differ" not in chinese.content.decode()
