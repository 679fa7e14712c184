"""The fee run against the bank: each charge of a daily allocation on its trading day, over
a holiday, once whatever the number of runs; arrears when the balance cannot cover it;
termination once the term is over."""

from __future__ import annotations

import datetime as dt

import pytest

from wanxin.allocation import domain, services
from wanxin.allocation.models import Allocation, FeeCharge, Holiday, Product, SubAccount
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f

from .conftest import allocation_customer, bank_balance, bank_income, books_balance
from .test_review import capital  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
BJ = domain.BEIJING
# The seeded daily product at ×2: allocated 2,000,000, fee rhu(2,000,000 × 0.001) = 2,000 a trading day.
DEPOSIT, RISK_FUND, FEE = 1_000_000, 20_000, 2_000


@pytest.fixture
def daily(live, capital):  # noqa: F811
    Holiday.objects.bulk_create(Holiday(day=dt.date(2026, 10, d), name="国庆节") for d in range(1, 8))
    operator = f.operator(roles.ALLOCATION_OPERATOR)
    user = allocation_customer(DEPOSIT + RISK_FUND + FEE + 4_000)  # two more fees, then nothing
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="daily").pk, deposit=DEPOSIT, multiple=2, duration=5))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-F{allocation.pk}", password="pw")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=BJ))
    allocation.refresh_from_db()
    assert (allocation.status, allocation.fee, allocation.end_date) == (domain.IN_PROGRESS, FEE, dt.date(2026, 10, 12))
    return allocation


def _run(day: dt.date, hour: int = 16) -> services.FeeRun:
    return services.fees_charge(today=day, now=dt.datetime.combine(day, dt.time(hour), tzinfo=BJ))


def test_daily_fees_on_each_trading_day_then_arrears_then_the_term_ends(daily):
    user_no, income = daily.customer.user_no, bank_income()
    run = _run(dt.date(2026, 10, 8))  # 30 September and 8 October are due (1–7 October are holidays)
    assert (run.charged, run.arrears, run.ended) == (2, 0, 0)
    assert list(FeeCharge.objects.order_by("date").values_list("date", "status")) == [
        (dt.date(2026, 9, 30), "PAID"), (dt.date(2026, 10, 8), "PAID")]
    assert bank_balance(user_no) == (0, DEPOSIT + RISK_FUND)
    assert bank_income() == income + 2 * FEE
    assert (_run(dt.date(2026, 10, 8)).charged, FeeCharge.objects.count()) == (0, 2)  # once per date

    run = _run(dt.date(2026, 10, 12), hour=14)  # 9 and 12 October: nothing left to pay them
    assert (run.charged, run.arrears, run.ended) == (0, 2, 0)
    a = Allocation.objects.get(pk=daily.pk)
    assert (a.fees_paid, a.arrears, a.status) == (3 * FEE, 2 * FEE, domain.IN_PROGRESS)
    assert list(a.fund_records.filter(kind="FEE_ARREARS").values_list("amount", flat=True)) == [-FEE, -FEE]

    assert _run(dt.date(2026, 10, 12), hour=15).ended == 1  # after the close of its last trading day
    assert Allocation.objects.get(pk=daily.pk).status == domain.TERMINATION_REQUESTED
    assert FeeCharge.objects.count() == 4
    books_balance()


def test_a_fee_the_bank_refuses_becomes_arrears(daily):
    from wanxin.funds.models import DepositoryAccount

    DepositoryAccount.objects.filter(user=daily.customer).update(available=1_000_000)  # a stale mirror
    run = _run(dt.date(2026, 10, 12), hour=10)
    assert run.charged == 4  # the platform believed it could pay all four
    a = Allocation.objects.get(pk=daily.pk)
    assert (a.fees_paid, a.arrears) == (3 * FEE, 2 * FEE)  # the bank paid two, refused two (30042)
    assert sorted(FeeCharge.objects.values_list("status", flat=True)) == ["ARREARS", "ARREARS", "PAID", "PAID"]
    books_balance()


def test_the_jobs_are_scheduled_and_run(live):
    from wanxin.jobs import jobs

    table = {j.name: j for j in jobs()}
    assert table["allocation.start_trading"].func()() == 0
    assert table["allocation.charge_fees"].func()() == {"charged": 0, "arrears": 0, "ended": 0, "errors": 0, "renewed": 0}


# The seeded monthly product at x3: allocated 3,000,003, fee rhu(3,000,003 x 0.015) = 45,000 a month.
M_DEPOSIT, M_RISK_FUND, M_FEE = 1_000_001, 30_000, 45_000


@pytest.fixture
def monthly(live, capital):  # noqa: F811
    operator = f.operator(roles.ALLOCATION_OPERATOR)
    user = allocation_customer(M_DEPOSIT + M_RISK_FUND + M_FEE + 2 * M_FEE + 44_999)  # two renewals, not three
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=M_DEPOSIT, multiple=3, duration=1))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-M{allocation.pk}", password="pw")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                now=dt.datetime(2027, 1, 29, 10, 0, tzinfo=BJ))
    allocation.refresh_from_db()
    assert (allocation.fee, allocation.start_date, allocation.end_date) == (M_FEE, dt.date(2027, 1, 29),
                                                                            dt.date(2027, 2, 28))
    return allocation


def test_auto_renew_takes_the_next_months_fee_while_the_balance_allows_then_the_term_ends(monthly, client):
    user = monthly.customer
    client.force_login(user)
    response = client.post(f"/api/v1/allocation/allocations/{monthly.pk}/auto-renew", {"on": True},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["autoRenew"] is True
    income = bank_income()

    run = _run(dt.date(2027, 2, 27))  # not yet at its end
    assert (run.charged, run.renewed, run.ended) == (0, 0, 0)
    run = _run(dt.date(2027, 2, 28), hour=0)  # its end (start + 1 month): renewed to 29 March
    assert (run.charged, run.renewed, run.ended) == (1, 1, 0)
    a = Allocation.objects.get(pk=monthly.pk)
    assert (a.duration, a.end_date, a.status, a.fees_paid) == (2, dt.date(2027, 3, 29), domain.IN_PROGRESS, 2 * M_FEE)
    assert list(FeeCharge.objects.values_list("date", "amount", "status")) == [(dt.date(2027, 2, 28), M_FEE, "PAID")]

    run = _run(dt.date(2027, 3, 29), hour=0)  # renewed again: 29 April, fees still from the original start
    assert (run.charged, run.renewed) == (1, 1)
    a.refresh_from_db()
    assert (a.duration, a.end_date) == (3, dt.date(2027, 4, 29))
    assert bank_balance(user.user_no) == (44_999, M_DEPOSIT + M_RISK_FUND)  # less than a fee is left

    run = _run(dt.date(2027, 4, 29), hour=0)  # the balance no longer allows it: termination starts
    assert (run.charged, run.renewed, run.ended, run.arrears) == (0, 0, 1, 0)
    a.refresh_from_db()
    assert (a.status, a.duration, a.fees_paid, a.arrears) == (domain.TERMINATION_REQUESTED, 3, 3 * M_FEE, 0)
    assert bank_income() == income + 2 * M_FEE
    assert _run(dt.date(2027, 4, 29), hour=1).charged == 0  # nothing twice
    books_balance()


def test_without_auto_renew_the_end_starts_termination(monthly, client):
    client.force_login(allocation_customer(0))  # another customer's allocation: not found
    url = f"/api/v1/allocation/allocations/{monthly.pk}/auto-renew"
    assert client.post(url, {"on": True}, content_type="application/json").status_code == 404
    run = _run(dt.date(2027, 2, 28), hour=0)
    a = Allocation.objects.get(pk=monthly.pk)
    assert (run.renewed, run.ended, a.status, a.duration, a.auto_renew) == (0, 1, domain.TERMINATION_REQUESTED, 1, False)
    assert FeeCharge.objects.filter(allocation=monthly).count() == 0
    client.force_login(monthly.customer)  # too late to renew once it is ending
    response = client.post(url, {"on": True}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (409, "bad_status")
    assert Allocation.objects.get(pk=monthly.pk).auto_renew is False
    books_balance()
