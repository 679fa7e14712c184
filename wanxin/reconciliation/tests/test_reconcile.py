"""Reconciliation against the real bank over HTTP: each kind of difference planted through a
real path is found, exactly; a clean day reconciles to zero; bad files and bad requests are
refused with nothing recorded; the finance officer's workflow."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from wanxin.audit.guards import SYSTEM
from wanxin.audit.models import AuditLog
from wanxin.bank.models import Statement
from wanxin.bank.tests import helpers as bank_helpers
from wanxin.core.errors import WanxinError
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.funds import services as funds
from wanxin.funds.tests.conftest import (
    at_bank,
    deliver,
    finish,
    make_customer,
    open_account,
    recharged,
)
from wanxin.protocol import codes, signing
from wanxin.reconciliation import services
from wanxin.reconciliation.models import Difference, ReconciliationDay

from .conftest import age, yesterday

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

D = Difference.Kind


def found(day: dt.date) -> set[tuple[str, str]]:
    return {(d.kind, d.request_no or d.account) for d in Difference.objects.filter(day__date=day)}


def customer(amount: int = 0):
    user = make_customer()
    open_account(user)
    if amount:
        recharged(user, amount)
    return user


def forged_success(user, amount: int) -> DepositoryRequest:
    """The attack of issue 13: a forged notification of a recharge the bank never did,
    applied through the platform's normal result path."""
    record = funds.recharge_start(user=user, amount=amount)
    return depository.result_apply(resp_data={"requestNo": record.request_no, "respCode": codes.SUCCESS,
                                              "respMsg": "forged", "status": "SUCCESS"}, source="notify")


def clean_activity():
    """Customers who recharge and withdraw (a commission to PLATFORM_INCOME), all settled."""
    first, second = customer(500_00), customer(300_00)
    record = finish(funds.withdraw_start(user=first, amount=100_00))
    assert record.status == "SUCCESS"
    return first, second


def test_clean_day_reconciles_to_zero(live):
    clean_activity()
    age(1)
    recon = services.day_reconcile(day=yesterday(), actor=SYSTEM)
    assert found(yesterday()) == set()
    # 2 account openings move no money: 2 recharges and 1 withdrawal are the statement.
    assert (recon.statement_rows, recon.matched, recon.runs) == (3, 3, 1)
    # Both customers, and PLATFORM_INCOME holding the withdrawal's commission.
    assert recon.balance_rows == 3
    assert AuditLog.objects.filter(action="reconciliation.run", target_id=str(recon.pk)).count() == 1


def test_every_planted_difference_is_found_exactly(live, bank):
    # Two days ago, E's platform records were credited by a forged notification: only E's
    # balance still differs yesterday (its transaction belongs to the day before).
    e = customer(100_00)
    forged_old = forged_success(e, 123_45)
    age(1)
    clean_activity()
    a, b, c, d, borrower = customer(200_00), customer(200_00), customer(), customer(), customer()
    # A: a request sent straight to the bank, never recorded by the platform.
    assert bank.call("CREATE_PROJECT", projectNo="RP1", borrowerUserNo=borrower.user_no, amount=1_000_00,
                     annualRate="0.120000", periods=6, repaymentMethod="EQUAL_INSTALLMENT",
                     name="Not on the platform")["respCode"] == codes.SUCCESS
    unrecorded = bank.call("USER_PRE_TRANSACTION", userNo=a.user_no, bizType="TENDER", amount=50_00, projectNo="RP1")
    assert unrecorded["respCode"] == codes.SUCCESS
    # B: a platform record the bank never saw.
    forged = forged_success(b, 70_00)
    # C: the bank moved a different amount than the platform recorded (a tampered hand-off).
    tampered = funds.recharge_start(user=c, amount=30_00)
    key = signing.load_private_key(settings.PLATFORM_PRIVATE_KEY)
    assert bank_helpers.run_gateway(key, "RECHARGE", {"requestNo": tampered.request_no, "userNo": c.user_no,
                                                      "amount": 35_00}).status == "SUCCESS"
    assert deliver() == 1
    # D: done at the bank, its answer never reached the platform (still pending there).
    lost = funds.recharge_start(user=d, amount=40_00)
    at_bank(lost)
    age(1)

    services.day_reconcile(day=yesterday(), actor=SYSTEM)

    assert found(yesterday()) == {
        (D.MISSING_ON_PLATFORM, unrecorded["requestNo"]), (D.BALANCE_DIFFERS, a.user_no),
        (D.MISSING_AT_BANK, forged.request_no), (D.BALANCE_DIFFERS, b.user_no),
        (D.AMOUNT_DIFFERS, tampered.request_no), (D.BALANCE_DIFFERS, c.user_no),
        (D.STATUS_DIFFERS, lost.request_no), (D.BALANCE_DIFFERS, d.user_no),
        (D.BALANCE_DIFFERS, e.user_no),
    }
    diff = {(x.kind, x.request_no or x.account): x for x in Difference.objects.filter(day__date=yesterday())}
    amount = diff[(D.AMOUNT_DIFFERS, tampered.request_no)]
    assert (amount.bank_amount, amount.platform_amount) == (35_00, 30_00)
    status = diff[(D.STATUS_DIFFERS, lost.request_no)]
    assert (status.bank_status, status.platform_status) == ("SUCCESS", "PENDING")
    short = diff[(D.BALANCE_DIFFERS, e.user_no)]
    assert (short.bank_available, short.platform_available) == (100_00, 223_45)
    tender = diff[(D.BALANCE_DIFFERS, a.user_no)]
    assert (tender.bank_available, tender.bank_frozen, tender.platform_available, tender.platform_frozen) == (
        150_00, 50_00, 200_00, 0)
    assert forged_old.request_no not in {x.request_no for x in diff.values()}


def test_workflow_requery_explain_close(live, client, finance):
    user = customer(100_00)
    lost = funds.recharge_start(user=user, amount=40_00)
    at_bank(lost)  # the bank did it; the platform never heard
    age(1)
    day = yesterday()
    services.day_reconcile(day=day, actor=finance)
    status = Difference.objects.get(kind=D.STATUS_DIFFERS)
    balance = Difference.objects.get(kind=D.BALANCE_DIFFERS)

    # Closing with open differences is refused, nothing changes.
    with pytest.raises(WanxinError, match="2 open differences"):
        services.day_close(actor=finance, day=day)
    assert ReconciliationDay.objects.get(date=day).status == "OPEN"

    # Re-query: the bank's answer is applied through the normal path; the records agree.
    status = services.difference_requery(actor=finance, difference_id=status.pk)
    assert status.status == "RESOLVED"
    lost.refresh_from_db()
    assert (lost.status, lost.applied_from) == ("SUCCESS", "query")
    # The balance at yesterday's close stays short on the platform (applied today): explain it.
    balance = services.difference_requery(actor=finance, difference_id=balance.pk)
    assert balance.status == "OPEN"
    with pytest.raises(WanxinError, match="comment is required"):
        services.difference_explain(actor=finance, difference_id=balance.pk, comment="  ")
    services.difference_explain(actor=finance, difference_id=balance.pk, comment="Recharge applied late by re-query")
    with pytest.raises(WanxinError, match="already handled"):
        services.difference_explain(actor=finance, difference_id=balance.pk, comment="again")

    recon = services.day_close(actor=finance, day=day)
    assert recon.status == "CLOSED"
    closed = AuditLog.objects.get(action="reconciliation.close_day")
    assert (closed.actor_id, closed.after["differences"]) == (finance.pk, {"RESOLVED": 1, "EXPLAINED": 1})
    assert AuditLog.objects.filter(action__in=["reconciliation.requery", "reconciliation.explain"]).count() == 3

    # Closing twice, or reconciling a closed day again: refused, nothing changed.
    with pytest.raises(WanxinError, match="already closed"):
        services.day_close(actor=finance, day=day)
    with pytest.raises(WanxinError, match="already closed"):
        services.day_reconcile(day=day, actor=finance)
    assert AuditLog.objects.filter(action="reconciliation.close_day").count() == 1
    assert ReconciliationDay.objects.get(date=day).runs == 1


def test_requery_missing_at_bank_stays_open_with_the_banks_answer(live, finance):
    forged = forged_success(customer(), 10_00)
    age(1)
    services.day_reconcile(day=yesterday(), actor=SYSTEM)
    difference = Difference.objects.get(kind=D.MISSING_AT_BANK)
    difference = services.difference_requery(actor=finance, difference_id=difference.pk)
    assert difference.status == "OPEN"
    assert "never recorded" in difference.bank_answer
    assert forged.request_no == difference.request_no


def test_bank_side_capital_funding_is_explained_then_counted(live, finance):
    from wanxin.bank import staff

    staff.fund_platform_capital(platform_no=settings.PLATFORM_NO, amount=1_000_00, staff="teller")
    age(1)
    services.day_reconcile(day=yesterday(), actor=SYSTEM)
    funding = Difference.objects.get(kind=D.MISSING_ON_PLATFORM)
    capital = Difference.objects.get(kind=D.BALANCE_DIFFERS, account="PLATFORM_CAPITAL")
    assert (capital.bank_available, capital.platform_available) == (1_000_00, 0)
    services.difference_explain(actor=finance, difference_id=funding.pk, comment="Capital injected by the bank")
    capital = services.difference_requery(actor=finance, difference_id=capital.pk)
    assert capital.status == "RESOLVED"


def _tamper(day: dt.date, content: str, *, keep_sha: bool) -> None:
    statement = Statement.objects.using("bank").get(date=day, kind="TRANSACTIONS")
    sha = statement.sha256 if keep_sha else hashlib.sha256(content.encode()).hexdigest()
    Statement.objects.using("bank").filter(pk=statement.pk).update(content=content, sha256=sha)


@pytest.mark.parametrize("case", ["sha256", "malformed", "count"])
def test_bad_statement_is_refused_whole(live, case):
    forged_success(customer(50_00), 10_00)  # something to record, were the file accepted
    age(1)
    day = yesterday()
    depository.statement_download(date=day.isoformat())  # the bank closes the day
    good = Statement.objects.using("bank").get(date=day, kind="TRANSACTIONS").content
    lines = good.splitlines(keepends=True)
    if case == "sha256":
        _tamper(day, good.replace("5000", "5001"), keep_sha=True)
    elif case == "malformed":
        _tamper(day, lines[0] + lines[1].replace(",5000,", ",50.00,") + "".join(lines[2:]), keep_sha=False)
    else:
        _tamper(day, good + lines[1].replace(lines[1].split(",")[0], "EXTRA1"), keep_sha=False)
    with pytest.raises(WanxinError, match="refused whole") as refused:
        services.day_reconcile(day=day, actor=SYSTEM)
    assert refused.value.status == 502
    assert not ReconciliationDay.objects.exists() and not Difference.objects.exists()
    assert not AuditLog.objects.filter(action="reconciliation.run").exists()


def test_future_today_and_permission_refused(live, reviewer):
    with pytest.raises(WanxinError, match="not a closed business day"):
        services.day_reconcile(day=timezone.localdate(), actor=SYSTEM)
    with pytest.raises(WanxinError, match="not a closed business day"):
        services.day_reconcile(day=timezone.localdate() + dt.timedelta(days=3), actor=SYSTEM)
    with pytest.raises(WanxinError, match="permission"):
        services.day_reconcile(day=yesterday(), actor=reviewer)
    assert not ReconciliationDay.objects.exists()


def test_command(live):
    clean_activity()
    age(1)
    call_command("reconcile", "--date", yesterday().isoformat())
    assert ReconciliationDay.objects.get(date=yesterday()).runs == 1
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reconcile", "--date", "yesterday")
    with pytest.raises(CommandError, match="not a closed business day"):
        call_command("reconcile", "--date", timezone.localdate().isoformat())


def test_platform_income_is_a_running_total_from_the_day_before(live):
    user = customer(1_000_00)
    first = finish(funds.withdraw_start(user=user, amount=100_00))
    age(1)
    second = finish(funds.withdraw_start(user=user, amount=300_00))
    age(1)
    two_days_ago, one_day_ago = yesterday() - dt.timedelta(days=1), yesterday()
    earlier = services.day_reconcile(day=two_days_ago, actor=SYSTEM)
    assert found(two_days_ago) == set()
    assert earlier.income_at_close == first.payload["commission"] > 0
    later = services.day_reconcile(day=one_day_ago, actor=SYSTEM)
    assert found(one_day_ago) == set()
    assert later.income_at_close == first.payload["commission"] + second.payload["commission"]
    # The next day starts from the day before's figure, not from all history: a wrong figure
    # there shows as a difference of PLATFORM_INCOME.
    ReconciliationDay.objects.filter(pk=earlier.pk).update(income_at_close=earlier.income_at_close + 1)
    services.day_reconcile(day=one_day_ago, actor=SYSTEM)
    income = Difference.objects.get(day__date=one_day_ago)
    assert (income.account, income.platform_available - income.bank_available) == ("PLATFORM_INCOME", 1)
