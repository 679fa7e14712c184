"""The fee run in bank BATCHes against the live bank: a run killed half-way (after a chunk's
commit, before its batch was sent; after the bank committed a batch, before the platform
applied its answers; a process killed with SIGKILL wherever it was) and run again charges
each allocation once; two runs at once charge
nothing twice; an answer that reached the platform another way first is not applied twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections

from wanxin.allocation import domain, selectors, services
from wanxin.allocation.models import Allocation, FeeCharge, Product, SubAccount
from wanxin.allocation.services import fee_plan, fee_sending
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank.models import Account
from wanxin.bank.staff import fund_platform_capital
from wanxin.depository import services as depository
from wanxin.depository.client import get_client
from wanxin.depository.models import DepositoryRequest

from .conftest import allocation_customer, bank_balance, bank_income, books_balance

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
BJ = domain.BEIJING
# The seeded daily product at ×2: allocated 2,000,000, fee rhu(2,000,000 × 0.001) = 2,000 a trading day.
DEPOSIT, RISK_FUND, FEE = 1_000_000, 20_000, 2_000
DAY = dt.date(2026, 9, 30)  # the day after the start: one charge due
NOW = dt.datetime.combine(DAY, dt.time(16), tzinfo=BJ)


@pytest.fixture
def running(live):
    """Five DAILY allocations of five customers, trading since 29 September 2026; each customer
    keeps two fees after paying."""
    capital = Account.objects.using("bank").filter(account_no="PLATFORM_CAPITAL").first()
    if capital is None or capital.available < 50_000_000:
        fund_platform_capital(platform_no=django_settings.PLATFORM_NO, amount=50_000_000, staff="test")
    operator = f.operator(roles.ALLOCATION_OPERATOR)
    allocations = []
    for n in range(5):
        user = allocation_customer(DEPOSIT + RISK_FUND + FEE + 2 * FEE)
        allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
            product_id=Product.objects.get(code="daily").pk, deposit=DEPOSIT, multiple=2, duration=5))
        services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
        account = SubAccount.objects.create(account_id=f"HS-B{allocation.pk}-{n}", password="pw")
        services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                    now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=BJ))
        allocations.append(Allocation.objects.get(pk=allocation.pk))
    assert {(a.status, a.fee) for a in allocations} == {(domain.IN_PROGRESS, FEE)}
    return allocations


def _charged_once(allocations, *, before: dict[str, int], income: int) -> None:
    """Each allocation has one PAID charge for DAY, the bank took exactly one fee of each
    customer, PLATFORM_INCOME got them all, and nothing waits for the bank."""
    assert list(FeeCharge.objects.order_by("allocation_id").values_list("allocation_id", "date", "status")) == [
        (a.pk, DAY, "PAID") for a in sorted(allocations, key=lambda a: a.pk)]
    for a in allocations:
        assert bank_balance(a.customer.user_no)[0] == before[a.customer.user_no] - FEE
        assert Allocation.objects.get(pk=a.pk).fees_paid == 2 * FEE
    assert bank_income() == income + len(allocations) * FEE
    assert not DepositoryRequest.objects.filter(status="PENDING").exists()
    books_balance()


def test_a_run_killed_half_way_and_run_again_charges_each_allocation_once(running, settings):
    settings.ALLOCATION_FEE_BATCH = 2
    before = {a.customer.user_no: bank_balance(a.customer.user_no)[0] for a in running}
    income = bank_income()
    schedules = fee_plan.Schedules(selectors.trading_calendar(dt.date(2026, 9, 29)))
    ids = [a.pk for a in running]
    # Killed after the first chunk's commit, before its batch went out: recorded, not sent.
    first = fee_plan.chunk_plan(ids[:2], today=DAY, now=NOW, schedules=schedules)
    assert first.charged == 2 and bank_income() == income
    # Killed after the bank committed the second chunk's batch, before its answers were applied.
    second = fee_plan.chunk_plan(ids[2:4], today=DAY, now=NOW, schedules=schedules)
    answers = fee_sending.batch_send(second.transfers, client=get_client())
    assert [a["respCode"] for a in answers] == ["00000", "00000"] and bank_income() == income + 2 * FEE
    assert FeeCharge.objects.filter(status="PENDING").count() == 4
    # One of those answers reaches the platform another way first (the recovery job's query).
    depository.request_requery(request_no=second.transfers[0].request_no)
    assert FeeCharge.objects.get(request_no=second.transfers[0].request_no).status == "PAID"

    run = services.fees_charge(today=DAY, now=NOW, workers=2)  # the fifth was never reached
    assert (run.resent, run.charged, run.arrears, run.errors) == (3, 1, 0, 0)
    _charged_once(running, before=before, income=income)

    again = services.fees_charge(today=DAY, now=NOW)
    assert (again.resent, again.charged, again.arrears) == (0, 0, 0)
    _charged_once(running, before=before, income=income)


def test_two_runs_at_once_charge_nothing_twice(running, settings):
    settings.ALLOCATION_FEE_BATCH = 2
    before = {a.customer.user_no: bank_balance(a.customer.user_no)[0] for a in running}
    income = bank_income()
    runs: list[services.FeeRun] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            runs.append(services.fees_charge(today=DAY, now=NOW, workers=2))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sum(r.errors for r in runs) == 0
    assert sum(r.charged for r in runs) == len(running)  # each charge decided by exactly one run
    _charged_once(running, before=before, income=income)


def test_a_chunk_spends_a_customers_mirror_once(live, settings):
    """Two allocations of one customer whose balance covers one fee: one is paid, the other
    is arrears (not refused by the bank after both were sent)."""
    fund_platform_capital(platform_no=django_settings.PLATFORM_NO, amount=50_000_000, staff="test")
    operator = f.operator(roles.ALLOCATION_OPERATOR)
    user = allocation_customer(2 * (DEPOSIT + RISK_FUND + FEE) + FEE)
    for n in range(2):
        allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
            product_id=Product.objects.get(code="daily").pk, deposit=DEPOSIT, multiple=2, duration=5,
            token=f"two-{n}"))
        services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
        account = SubAccount.objects.create(account_id=f"HS-C{allocation.pk}", password="pw")
        services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk,
                                    now=dt.datetime(2026, 9, 29, 10, 0, tzinfo=BJ))
    run = services.fees_charge(today=DAY, now=NOW)
    assert (run.charged, run.arrears) == (1, 1)
    assert sorted(FeeCharge.objects.values_list("status", flat=True)) == ["ARREARS", "PAID"]
    assert bank_balance(user.user_no)[0] == 0
    assert not DepositoryRequest.objects.filter(status__in=["PENDING", "FAIL"], service_name="TRANSFER").exists()
    books_balance()


CHILD = """
import datetime as dt, django
django.setup()
from wanxin.allocation import domain, services
services.fees_charge(today=dt.date(2026, 9, 30), now=dt.datetime(2026, 9, 30, 16, tzinfo=domain.BEIJING), workers=1)
"""


def _url(alias: str) -> str:
    db = connections[alias].settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_a_run_killed_with_sigkill_half_way_and_run_again_charges_each_allocation_once(running, settings):
    """A fee run in another process, one allocation per chunk and BATCH, killed (SIGKILL) once
    two charges are recorded, wherever it is then; the next run finishes the day."""
    before = {a.customer.user_no: bank_balance(a.customer.user_no)[0] for a in running}
    income = bank_income()
    env = {**os.environ, "DATABASE_URL": _url("default"), "BANK_DATABASE_URL": _url("bank"),
           "BANK_URL": settings.BANK_URL, "PLATFORM_PRIVATE_KEY": settings.PLATFORM_PRIVATE_KEY,
           "BANK_PUBLIC_KEY": settings.BANK_PUBLIC_KEY, "WANXIN_ROLE": "platform", "ALLOCATION_FEE_BATCH": "1",
           "DJANGO_SETTINGS_MODULE": "wanxin.settings"}
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=Path(__file__).resolve().parents[3])
    deadline = time.monotonic() + 120
    while FeeCharge.objects.count() < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL  # killed, not finished
    recorded = FeeCharge.objects.count()
    assert 2 <= recorded < len(running)

    run = services.fees_charge(today=DAY, now=NOW)
    assert run.errors == 0 and run.charged == len(running) - recorded
    _charged_once(running, before=before, income=income)
