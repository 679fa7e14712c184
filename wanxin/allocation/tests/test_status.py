"""Daily account statuses: the lines decide the status, the margin call goes once per
crossing, absurd figures and duplicate days are refused, and a CSV is all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from wanxin.allocation import domain, services
from wanxin.allocation.models import Allocation, DailyStatus, Product, SubAccount
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.core.errors import WanxinError
from wanxin.notifications import backends

from .conftest import allocation_customer
from .test_review import capital  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
WARNING, LIQUIDATION = 3_600_004, 3_400_003  # of a ¥10,000.01 ×3 monthly allocation


@pytest.fixture
def operator():
    return f.operator(roles.ALLOCATION_OPERATOR)


@pytest.fixture
def running(live, operator, capital):  # noqa: F811
    user = allocation_customer(2_000_000)
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=1_000_001, multiple=3, duration=3))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-{allocation.pk}", password="pw")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=domain.BEIJING))
    allocation.refresh_from_db()
    assert (allocation.status, allocation.warning_line, allocation.liquidation_line) == (
        domain.IN_PROGRESS, WARNING, LIQUIDATION)
    backends.outbox_clear()
    return allocation


def _status(day: dt.date, total: int, *, market: int | None = None, cash: int = 0, pl: int = 0):
    return domain.AccountStatus(day=day, total_assets=total, market_value=total - cash if market is None else market,
                                available_cash=cash, profit_loss=pl)


def _record(operator, allocation, day, total, **kw) -> str:
    services.status_record(operator=operator, allocation_id=allocation.pk, status=_status(day, total, **kw))
    return Allocation.objects.get(pk=allocation.pk).status


def test_the_lines_decide_the_status_and_the_margin_call_goes_once_per_crossing(running, operator):
    a = running
    assert _record(operator, a, dt.date(2026, 9, 30), 4_100_000, cash=1_100_000, pl=99_996) == domain.IN_PROGRESS
    assert backends.outbox == []
    assert _record(operator, a, dt.date(2026, 10, 8), WARNING) == domain.WARNING  # at the line
    assert len(backends.outbox) == 1
    sms = backends.outbox[0]
    assert sms.mobile == a.customer.mobile and "¥36,000.04" in sms.text and a.allocation_no in sms.text
    assert _record(operator, a, dt.date(2026, 10, 9), 3_500_000) == domain.WARNING
    assert len(backends.outbox) == 1  # still under: no second message
    assert _record(operator, a, dt.date(2026, 10, 12), WARNING + 1) == domain.IN_PROGRESS
    assert _record(operator, a, dt.date(2026, 10, 13), LIQUIDATION) == domain.LIQUIDATION
    assert len(backends.outbox) == 2  # a new crossing
    assert _record(operator, a, dt.date(2026, 10, 14), 5_000_000) == domain.LIQUIDATION  # operators close it
    a.refresh_from_db()
    assert (a.latest_total_assets, a.latest_status_day) == (5_000_000, dt.date(2026, 10, 14))
    moves = list(a.fund_records.filter(kind="STATUS").order_by("pk").values_list("status_to", flat=True))
    assert moves[-3:] == [domain.WARNING, domain.IN_PROGRESS, domain.LIQUIDATION]
    # An older day recorded late does not move the status.
    assert _record(operator, a, dt.date(2026, 10, 2), 1) == domain.LIQUIDATION
    a.refresh_from_db()
    assert a.latest_status_day == dt.date(2026, 10, 14)


@pytest.mark.parametrize("kwargs,code", [
    ({"total": -1}, "invalid_total_assets"),
    ({"total": 100, "market": 101}, "invalid_market_value"),
    ({"total": 100, "market": 60, "cash": 50}, "invalid_available_cash"),
    ({"day": "future"}, "invalid_day"),
    ({"day": dt.date(2026, 9, 28)}, "invalid_day"),  # before trading started
])
def test_absurd_statuses_are_refused_and_nothing_changes(running, operator, kwargs, code):
    day = kwargs.pop("day", dt.date(2026, 10, 8))
    if day == "future":
        day = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(WanxinError) as err:
        _record(operator, running, day, kwargs.pop("total", 4_000_000), **kwargs)
    assert err.value.code == code
    assert not DailyStatus.objects.exists()
    assert Allocation.objects.get(pk=running.pk).latest_total_assets is None


def test_a_day_is_recorded_once_and_only_while_running(running, operator):
    _record(operator, running, dt.date(2026, 10, 8), 4_000_000)
    with pytest.raises(WanxinError) as err:
        _record(operator, running, dt.date(2026, 10, 8), 4_100_000)
    assert err.value.code == "duplicate"
    paid = allocation_customer(2_000_000)
    other = services.allocation_apply(customer=paid, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=1_000_001, multiple=3, duration=3))
    with pytest.raises(WanxinError) as err:
        _record(operator, other, dt.date(2026, 10, 8), 4_000_000)
    assert err.value.code == "not_running"
    with pytest.raises(WanxinError) as err:
        _record(f.operator(roles.CUSTOMER_SERVICE), running, dt.date(2026, 10, 9), 4_000_000)
    assert err.value.status == 403


def test_csv_upload_is_all_or_nothing_with_row_numbers(running, operator):
    no = running.allocation_no
    bad = ("allocation_no,day,total_assets,market_value,available_cash,profit_loss\n"
           f"{no},2026-10-08,4000000,3000000,1000000,-5\n"
           f"{no},2026-10-09,4000000,3000000\n"
           f"NOPE,2026-10-09,4000000,3000000,1000000,0\n"
           f"{no},2026-10-12,1.5,0,0,0\n")
    with pytest.raises(WanxinError) as err:
        services.statuses_import(operator=operator, data=bad.encode())
    message = err.value.message
    assert err.value.code == "invalid_csv"
    assert "row 3:" in message and "row 4:" in message and "row 5:" in message and "row 2:" not in message
    assert not DailyStatus.objects.exists()

    good = ("allocation_no,day,total_assets,market_value,available_cash,profit_loss\n"
            f"{no},2026-10-08,4000000,3000000,1000000,-5\n"
            f"{no},2026-10-09,3500000,3000000,500000,-500005\n")
    assert services.statuses_import(operator=operator, data=good.encode()).recorded == 2
    assert list(DailyStatus.objects.order_by("day").values_list("total_assets", "profit_loss")) == [
        (4_000_000, -5), (3_500_000, -500_005)]
    assert Allocation.objects.get(pk=running.pk).status == domain.WARNING
    assert len(backends.outbox) == 1
