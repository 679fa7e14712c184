"""Plans at disbursement, repayment, prepayment, overdue and the jobs, against the bank over
live HTTP: exact amounts (hand-checked), every investor paid exactly their share, nothing
paid twice, recovery after timeouts, and the bank's books sum to zero after each test."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from wanxin.bank import invariants
from wanxin.bank.tests import helpers as bank_helpers
from wanxin.core.errors import Conflict, WanxinError
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.lending.models import Project
from wanxin.lending.tests.conftest import TERMS, _key, bank_balance, bank_income, bank_project
from wanxin.repayments import domain, selectors, services
from wanxin.repayments.models import ReceivablePlan, Repayment, RepaymentPlan
from wanxin.testing import at_once, db_fault

from .conftest import customer, disbursed, mirror, recover

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

# Hand-checked (see the module docstring of test_receivables for the method):
# principal 333,334 / 333,333 / 333,333; interest 1% a month on the opening principal
# 10,000 / 6,667 / 3,333; investors' pool at 10/12 of it: 8,333 / 5,556 / 2,778.
PRINCIPALS = [333_334, 333_333, 333_333]
INTERESTS = [10_000, 6_667, 3_333]
SHARES = [1_667, 1_111, 555]
# Period 1 split 5:3:2 by largest remainder: principal 166,667 / 100,000 / 66,667,
# interest 4,166 / 2,500 / 1,667.
PERIOD1 = {"a": 170_833, "b": 102_500, "c": 68_334}


def plans(project) -> list[RepaymentPlan]:
    return list(RepaymentPlan.objects.filter(project=project).order_by("number"))


def types(user) -> list[tuple[str, int]]:
    return list(FundRecord.objects.filter(user=user).order_by("pk").values_list("type", "amount"))


def test_plans_are_exact(loan):
    project = loan["project"]
    rows = plans(project)
    assert [p.principal for p in rows] == PRINCIPALS
    assert [p.interest for p in rows] == INTERESTS
    assert [p.platform_share for p in rows] == SHARES
    assert sum(p.principal for p in rows) == project.amount
    assert [p.status for p in rows] == ["DUE"] * 3
    start = timezone.localdate(project.loaned_at)
    assert [p.due_date for p in rows] == [domain.add_months(start, n) for n in (1, 2, 3)]
    for plan in rows:
        parts = list(ReceivablePlan.objects.filter(plan=plan))
        assert sum(r.principal for r in parts) == plan.principal
        assert plan.interest - sum(r.interest for r in parts) == plan.platform_share >= 0
    for key, holding in (("a", 5_000_00), ("b", 3_000_00), ("c", 2_000_00)):
        mine = ReceivablePlan.objects.filter(investor=loan[key], number=1).get()
        assert mine.principal + mine.interest == PERIOD1[key]
        assert sum(ReceivablePlan.objects.filter(investor=loan[key]).values_list("principal", flat=True)) == holding
    # Generating again (a replayed result) changes nothing.
    assert len(services.plans_generate(project=project)) == 3
    assert ReceivablePlan.objects.count() == 9


def test_repay_period_one_pays_every_investor_exactly(loan):
    project, borrower = loan["project"], loan["borrower"]
    income = bank_income()
    plan = plans(project)[0]
    repayment = services.repay_start(borrower=borrower, plan_id=plan.pk)
    repayment.refresh_from_db()
    assert repayment.status == "DONE"
    assert (repayment.total, repayment.commission) == (343_334, 1_667)
    plan.refresh_from_db()
    assert (plan.status, plan.paid_amount, plan.repayment_id) == ("REPAID", 343_334, repayment.pk)
    assert bank_balance(borrower.user_no) == (10_800_00 - 343_334, 0)
    assert mirror(borrower) == (10_800_00 - 343_334, 0)
    for key in ("a", "b", "c"):
        assert bank_balance(loan[key].user_no) == (PERIOD1[key], 0)
        assert mirror(loan[key]) == (PERIOD1[key], 0)
        assert types(loan[key])[-1] == ("RECEIVABLE", PERIOD1[key])
    assert bank_income() - income == 1_667
    assert types(borrower)[-2:] == [("FREEZE", -343_334), ("REPAYMENT", -343_334)]
    assert set(ReceivablePlan.objects.filter(plan=plan).values_list("status", flat=True)) == {"RECEIVED"}
    with pytest.raises(Conflict):
        services.repay_start(borrower=borrower, plan_id=plan.pk)
    # Somebody else's period is not found; period 3 before period 2 is refused.
    with pytest.raises(WanxinError):
        services.repay_start(borrower=loan["a"], plan_id=plans(project)[1].pk)
    with pytest.raises(Conflict):
        services.repay_start(borrower=borrower, plan_id=plans(project)[2].pk)
    assert Project.objects.get(pk=project.pk).status == "REPAYING"
    assert invariants.total_balance() == 0


def test_double_click_and_concurrent_clicks_pay_once(loan, outage):
    project, borrower = loan["project"], loan["borrower"]
    plan = plans(project)[0]
    outage({"USER_PRE_TRANSACTION"}, lost="request")
    first = services.repay_start(borrower=borrower, plan_id=plan.pk)
    with pytest.raises(Conflict) as info:
        services.repay_start(borrower=borrower, plan_id=plan.pk)
    assert info.value.code == "in_progress"
    outage.stop()
    assert recover() == {"resent": 1}
    first.refresh_from_db()
    assert first.status == "DONE"

    # Period 2: eight clicks at once; exactly one repayment is recorded and paid.
    plan2 = plans(project)[1]
    outcomes = at_once(lambda: services.repay_start(borrower=borrower, plan_id=plan2.pk), 8)
    errors = [o.code for o in outcomes if isinstance(o, Conflict)]
    assert len(errors) == 7
    assert Repayment.objects.filter(plans=plan2).count() == 1
    assert Repayment.objects.count() == 2
    assert DepositoryRequest.objects.filter(service_name="CONFIRM_REPAYMENT").count() == 2
    assert bank_balance(borrower.user_no) == (10_800_00 - 343_334 - (333_333 + 6_667), 0)
    assert invariants.total_balance() == 0


@pytest.mark.parametrize("lost", ["request", "answer"])
def test_confirm_timeout_then_recovery(loan, outage, lost):
    project, borrower = loan["project"], loan["borrower"]
    plan = plans(project)[0]
    outage({"CONFIRM_REPAYMENT"}, lost=lost)
    repayment = services.repay_start(borrower=borrower, plan_id=plan.pk)
    repayment.refresh_from_db()
    assert repayment.status == "CONFIRMING"
    assert RepaymentPlan.objects.get(pk=plan.pk).status == "DUE"
    assert bank_balance(borrower.user_no) == ((10_800_00 - 343_334, 0) if lost == "answer"
                                              else (10_800_00 - 343_334, 343_334))
    outage.stop()
    assert recover() == {"applied" if lost == "answer" else "resent": 1}
    repayment.refresh_from_db()
    assert repayment.status == "DONE"
    assert RepaymentPlan.objects.get(pk=plan.pk).status == "REPAID"
    for key in ("a", "b", "c"):
        assert bank_balance(loan[key].user_no) == (PERIOD1[key], 0) == mirror(loan[key])
    assert FundRecord.objects.filter(type="RECEIVABLE").count() == 3
    assert recover() == {}
    assert invariants.total_balance() == 0


def test_refused_confirm_releases_the_freeze(loan, outage):
    project, borrower = loan["project"], loan["borrower"]
    plan = plans(project)[0]
    outage({"CONFIRM_REPAYMENT"}, lost="request")
    repayment = services.repay_start(borrower=borrower, plan_id=plan.pk)
    outage.stop()
    # The bank will refuse the confirmation: its amounts no longer match the freeze (30011).
    record = DepositoryRequest.objects.get(service_name="CONFIRM_REPAYMENT")
    record.payload = {**record.payload, "commission": record.payload["commission"] + 1}
    record.save()
    assert recover() == {"resent": 1}
    repayment.refresh_from_db()
    assert (repayment.status, repayment.cancel_request_no != "") == ("FAILED", True)
    plan.refresh_from_db()
    assert (plan.status, plan.repayment_id) == ("DUE", None)
    assert bank_balance(borrower.user_no) == (10_800_00, 0) == mirror(borrower)
    assert types(borrower)[-2:] == [("FREEZE", -343_334), ("UNFREEZE", 343_334)]
    # The period can be repaid again.
    assert services.repay_start(borrower=borrower, plan_id=plan.pk).status in ("FREEZING", "DONE")
    assert RepaymentPlan.objects.get(pk=plan.pk).status == "REPAID"
    assert invariants.total_balance() == 0


def test_freeze_refused_by_the_bank_leaves_the_period_unpaid(loan):
    project, borrower = loan["project"], loan["borrower"]
    plan = plans(project)[0]
    DepositoryAccount.objects.filter(user=borrower).update(available=100)
    with pytest.raises(Conflict) as info:  # the platform's mirror says not enough
        services.repay_start(borrower=borrower, plan_id=plan.pk)
    assert info.value.code == "insufficient_balance"
    assert Repayment.objects.count() == 0
    DepositoryAccount.objects.filter(user=borrower).update(available=10_800_00)
    # The money left the account at the bank meanwhile; the mirror still says enough.
    assert bank_helpers.withdraw(_key(), borrower.user_no, 10_800_00 - 100).resp_code == "00000"
    repayment = services.repay_start(borrower=borrower, plan_id=plan.pk)
    repayment.refresh_from_db()
    assert repayment.status == "FAILED" and "30042" in repayment.fail_reason
    plan.refresh_from_db()
    assert (plan.status, plan.repayment_id) == ("DUE", None)
    assert FundRecord.objects.filter(user=borrower, type__in=["FREEZE", "REPAYMENT"]).count() == 0
    assert bank_balance(borrower.user_no) == (100, 0)
    assert invariants.total_balance() == 0


def test_overdue_marking_and_penalty_are_exact(loan, settings):
    settings.REPAYMENT_GRACE_DAYS = 3
    settings.REPAYMENT_PENALTY_DAILY_RATE = "0.0005"
    project, borrower = loan["project"], loan["borrower"]
    plan = plans(project)[0]
    due = plan.due_date
    # Within the grace days: nothing.
    assert services.overdue_mark(today=due + dt.timedelta(days=3)) == {"overdue": 0, "accrued": 0}
    # Day 4 after the due date: overdue, penalty 343,334 × 0.0005 × 4 = 686.668 → 687 fen.
    assert services.overdue_mark(today=due + dt.timedelta(days=4)) == {"overdue": 1, "accrued": 1}
    plan.refresh_from_db()
    assert (plan.status, plan.penalty) == ("OVERDUE", 687)
    assert set(ReceivablePlan.objects.filter(plan=plan).values_list("status", flat=True)) == {"OVERDUE"}
    # Recomputed to date, never summed: day 20 → 343,334 × 0.0005 × 20 = 3,433.34 → 3,433
    # (daily-rounded amounts would add up to 172 × 20 = 3,440).
    assert services.overdue_mark(today=due + dt.timedelta(days=20)) == {"overdue": 0, "accrued": 1}
    plan.refresh_from_db()
    assert plan.penalty == 3_433 == domain.penalty(343_334, Decimal("0.0005"), 20)
    assert services.overdue_mark(today=due + dt.timedelta(days=20)) == {"overdue": 0, "accrued": 0}
    buckets = selectors.overdue(today=due + dt.timedelta(days=20))
    assert [r.plan.pk for r in buckets["1-30"]] == [plan.pk] and not buckets["31-60"]
    assert selectors.overdue(today=due + dt.timedelta(days=31))["31-60"][0].days == 31
    # Repaying it pays the penalty to the platform; investors get exactly their receivable.
    income = bank_income()
    repayment = services.repay_start(borrower=borrower, plan_id=plan.pk)
    repayment.refresh_from_db()
    assert (repayment.status, repayment.total, repayment.commission) == ("DONE", 343_334 + 3_433, 1_667 + 3_433)
    assert bank_income() - income == 1_667 + 3_433
    for key in ("a", "b", "c"):
        assert bank_balance(loan[key].user_no) == (PERIOD1[key], 0)
    plan.refresh_from_db()
    assert (plan.status, plan.penalty, plan.paid_amount) == ("REPAID", 3_433, 346_767)
    assert set(ReceivablePlan.objects.filter(plan=plan).values_list("status", flat=True)) == {"RECEIVED"}
    assert services.overdue_mark(today=due + dt.timedelta(days=21)) == {"overdue": 0, "accrued": 0}
    assert invariants.total_balance() == 0


def test_auto_repayment_and_reminders(loan, sms):
    project, borrower = loan["project"], loan["borrower"]
    plan = plans(project)[0]
    assert services.remind(today=plan.due_date - dt.timedelta(days=1)) == 1
    assert services.remind(today=plan.due_date - dt.timedelta(days=1)) == 0
    assert [m.mobile for m in sms] == [borrower.mobile]
    assert services.auto_repay(today=plan.due_date - dt.timedelta(days=1)) == {"started": 0, "skipped": 0, "errors": 0}
    assert services.auto_repay(today=plan.due_date) == {"started": 1, "skipped": 0, "errors": 0}
    plan.refresh_from_db()
    assert plan.status == "REPAID" and plan.repayment.auto
    assert services.auto_repay(today=plan.due_date) == {"started": 0, "skipped": 0, "errors": 0}
    # A borrower who has not authorised REPAYMENT is left alone.
    DepositoryAccount.objects.filter(user=borrower).update(auth_list=["TENDER"])
    assert services.auto_repay(today=plans(project)[1].due_date) == {"started": 0, "skipped": 0, "errors": 0}
    assert bank_balance(borrower.user_no) == (10_800_00 - 343_334, 0)
    assert invariants.total_balance() == 0


def test_auto_repay_runs_loans_concurrently_each_exactly_once(live, reviewer, finance):
    """Five loans due the same day, four worker threads: three are paid (each exactly once,
    every investor exactly their share), one borrower lacks the money (skipped), one fails
    unexpectedly (counted as an error, the others go on); the next runs pick up only what
    is left, and two runs at once still start each period once."""
    a, b = customer(balance=10_000_00), customer(balance=5_000_00)
    borrowers = [customer(kyc_limit=1_000_000_00) for _ in range(5)]
    projects = [disbursed(borrower, reviewer, finance, [a, b], [2_000_00, 1_000_00], amount=3_000_00,
                          months=3, method="EQUAL_PRINCIPAL") for borrower in borrowers]
    firsts = [plans(project)[0] for project in projects]
    due = firsts[0].due_date
    assert {plan.due_date for plan in firsts} == {due}
    poor, broken = borrowers[3], firsts[4]
    DepositoryAccount.objects.filter(user=poor).update(available=100)  # the mirror says not enough
    before = {key: bank_balance(user.user_no)[0] for key, user in (("a", a), ("b", b))}
    # An unexpected failure on one loan: the database refuses to record its repayment.
    with db_fault("repayments_repayment", f"NEW.project_id = {broken.project_id}"):
        assert services.auto_repay(today=due, workers=4) == {"started": 3, "skipped": 1, "errors": 1}
    for plan in firsts[:3]:
        plan.refresh_from_db()
        assert plan.status == "REPAID" and plan.repayment.auto and plan.repayment.status == "DONE"
        assert Repayment.objects.filter(project_id=plan.project_id).count() == 1
        assert set(ReceivablePlan.objects.filter(plan=plan).values_list("status", flat=True)) == {"RECEIVED"}
    for user, key in ((a, "a"), (b, "b")):
        share = sum(r.principal + r.interest for r in ReceivablePlan.objects.filter(plan__in=firsts[:3], investor=user))
        assert bank_balance(user.user_no) == (before[key] + share, 0) == mirror(user)
        assert FundRecord.objects.filter(user=user, type="RECEIVABLE").count() == 3
    assert Repayment.objects.filter(project__in=projects[3:]).count() == 0

    assert services.auto_repay(today=due, workers=4) == {"started": 1, "skipped": 1, "errors": 0}
    broken.refresh_from_db()
    assert broken.status == "REPAID"

    # Two runs at once (say, a slow run overlapping the next): each period is started once.
    DepositoryAccount.objects.filter(user=poor).update(available=bank_balance(poor.user_no)[0])
    second = [plans(project)[1] for project in projects]
    results = at_once(lambda: services.auto_repay(today=second[0].due_date, workers=3), 2)
    assert sum(r["started"] for r in results) == 5 and sum(r["errors"] for r in results) == 0
    # The earliest unpaid period of each loan: the late borrower's first, everybody else's second.
    for plan in [firsts[3], *second[:3], second[4]]:
        assert RepaymentPlan.objects.get(pk=plan.pk).status == "REPAID"
        assert Repayment.objects.filter(plans=plan).count() == 1
    assert RepaymentPlan.objects.get(pk=second[3].pk).status == "DUE"
    assert Repayment.objects.filter(status="DONE").count() == Repayment.objects.count() == 9
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []


def test_prepayment_finishes_the_loan(loan, settings):
    settings.REPAYMENT_PREPAYMENT_FEE_RATE = "0.01"
    project, borrower = loan["project"], loan["borrower"]
    first = plans(project)[0]
    services.repay_start(borrower=borrower, plan_id=first.pk)
    today = first.due_date + dt.timedelta(days=10)
    income = bank_income()
    quote = services.prepay_quote(project=project, today=today)
    # 666,666 × 12% × 10 / 360 = 2,222.22 → 2,222; fee 1% = 6,666.66 → 6,667;
    # investors' pool 2,222 × 10/12 = 1,851.67 → 1,852.
    assert (quote["principal"], quote["interest"], quote["fee"], quote["days"]) == (666_666, 2_222, 6_667, 10)
    assert quote["commission"] == 2_222 - 1_852 + 6_667
    with pytest.raises(Conflict):  # the next period is due: repay it first
        services.prepay_start(borrower=borrower, project_id=project.pk, today=plans(project)[1].due_date)
    repayment = services.prepay_start(borrower=borrower, project_id=project.pk, today=today)
    repayment.refresh_from_db()
    assert (repayment.status, repayment.total) == ("DONE", 666_666 + 2_222 + 6_667)
    project.refresh_from_db()
    assert (project.status, project.bank_status) == ("FINISHED", "FINISHED")
    assert bank_project(project.project_no).status == "FINISHED"
    assert [p.status for p in plans(project)] == ["REPAID"] * 3
    assert bank_income() - income == 2_222 - 1_852 + 6_667
    got = {k: bank_balance(loan[k].user_no)[0] - PERIOD1[k] for k in ("a", "b", "c")}
    # Principal outstanding 333,333 / 200,000 / 133,333 and the pool 1,852 split 5:3:2 → 926 / 555.6 / 370.4.
    assert got == {"a": 333_333 + 926, "b": 200_000 + 556, "c": 133_333 + 370}
    assert sum(got.values()) == 666_666 + 1_852
    assert bank_balance(borrower.user_no) == (10_800_00 - 343_334 - 675_555, 0) == mirror(borrower)
    assert invariants.total_balance() == 0


def test_last_period_finishes_the_loan(live, reviewer, finance):
    borrower = customer(balance=100_00, kyc_limit=10**9)
    investor = customer(balance=1_000_00)
    project = disbursed(borrower, reviewer, finance, [investor], [1_000_00], amount=1_000_00, months=2,
                        method="BULLET", terms=dataclasses.replace(TERMS, per_investor_cap=1_000_00))
    (plan,) = plans(project)
    # ¥1,000 × 12% × 2/12 = 2,000 fen; investors 10%: 1,667; platform 333.
    assert (plan.principal, plan.interest, plan.platform_share) == (1_000_00, 2_000, 333)
    services.repay_start(borrower=borrower, plan_id=plan.pk)
    project.refresh_from_db()
    assert (project.status, project.bank_status) == ("FINISHED", "FINISHED")
    assert bank_balance(investor.user_no) == (1_000_00 + 1_667, 0)
    assert bank_balance(borrower.user_no) == (100_00 + 1_000_00 - 20_00 - 1_020_00, 0)
    portfolio = selectors.portfolio(investor)
    assert (portfolio.received_principal, portfolio.received_interest, portfolio.expected) == (1_000_00, 1_667, 0)
    assert invariants.total_balance() == 0


def test_auto_repay_shards_cover_every_loan_once(live, reviewer, finance, monkeypatch, settings):
    """``shard=(i, n)`` repays the loans with project_id % n == i; the n shards together
    repay every due loan exactly once. Under Celery, REPAYMENT_AUTO_SHARDS = n fans the job
    out as n shard tasks (the embedded scheduler, not in a task, runs it whole)."""
    from wanxin.repayments import tasks

    a = customer(balance=10_000_00)
    projects = [disbursed(customer(kyc_limit=1_000_000_00), reviewer, finance, [a], [1_000_00], amount=1_000_00,
                          months=3, method="EQUAL_PRINCIPAL") for _ in range(3)]
    due = plans(projects[0])[0].due_date
    odd = sum(p.pk % 2 for p in projects)
    with pytest.raises(ValueError):
        services.auto_repay(today=due, shard=(2, 2))
    assert services.auto_repay(today=due, shard=(1, 2)) == {"started": odd, "skipped": 0, "errors": 0}
    for project in projects:
        assert plans(project)[0].status == ("REPAID" if project.pk % 2 else "DUE")
    sent = []
    monkeypatch.setattr(tasks, "group", lambda sigs: type("G", (), {"apply_async": lambda self: sent.extend(sigs)})())
    settings.REPAYMENT_AUTO_SHARDS = 2
    monkeypatch.setattr(tasks, "current_task", object())  # as inside a Celery task
    assert tasks.auto_repay() == {"shards": 2}
    assert [tuple(s.args[:2]) for s in sent] == [(0, 2), (1, 2)]
    assert tasks.auto_repay_shard(0, 2, due.isoformat()) == {"started": 3 - odd, "skipped": 0, "errors": 0}
    assert tasks.auto_repay_shard(1, 2, due.isoformat()) == {"started": 0, "skipped": 0, "errors": 0}
    for project in projects:
        assert plans(project)[0].status == "REPAID"
        assert Repayment.objects.filter(project=project).count() == 1
    assert invariants.total_balance() == 0


def test_a_share_held_by_the_borrower_fails_the_repayment_for_good(loan):
    """No path lets a borrower hold a share of their own loan (bids on it are refused, here
    and at the bank: lending's and the bank's tests). Were one to appear (a future debt
    transfer), the bank refuses the confirmation with a final 30020, not a retryable 00001:
    the freeze is released and the period stays due, by hand and automatically (a BATCH)."""
    project, borrower = loan["project"], loan["borrower"]
    plan = plans(project)[0]
    ReceivablePlan.objects.filter(investor=loan["c"]).update(investor=borrower)
    repayment = services.repay_start(borrower=borrower, plan_id=plan.pk)
    repayment.refresh_from_db()
    assert repayment.status == "FAILED" and "30020" in repayment.fail_reason
    assert borrower.user_no in [d["userNo"] for d in repayment.details]
    assert services.auto_repay(today=plan.due_date)["started"] == 1
    auto = Repayment.objects.get(auto=True)
    assert auto.status == "FAILED" and "30020" in auto.fail_reason
    plan.refresh_from_db()
    assert (plan.status, plan.repayment_id) == ("DUE", None)
    assert bank_balance(borrower.user_no) == (10_800_00, 0) == mirror(borrower)
    assert types(borrower)[-2:] == [("FREEZE", -343_334), ("UNFREEZE", 343_334)]
    assert recover() == {}
    assert invariants.total_balance() == 0
