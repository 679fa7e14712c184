"""Automatic repayment through the depository outbox (decision record 0007): its freezes and
confirmations reach the bank as BATCHes and each loan ends exactly as a borrower's own
repayment of an identical loan does; a freeze the bank refuses inside a batch frees its period;
a job whose sender died leaves work that the next run finishes once."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from wanxin.bank import invariants
from wanxin.bank.models import BankRequest
from wanxin.bank.tests.helpers import withdraw
from wanxin.depository import outbox
from wanxin.depository.models import DepositoryRequest
from wanxin.depository.tests.conftest import ForwardThen
from wanxin.funds.models import FundRecord
from wanxin.lending.tests.conftest import bank_balance, bank_income
from wanxin.repayments import services
from wanxin.repayments.models import ReceivablePlan, Repayment, RepaymentPlan

from .conftest import customer, disbursed, mirror

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def first_plan(project) -> RepaymentPlan:
    return RepaymentPlan.objects.filter(project=project).order_by("number").first()


def outcome(project) -> dict:
    """What a repaid period leaves on the platform (independent of ids and request numbers)."""
    plan = first_plan(project)
    repayment = plan.repayment
    return {
        "plan": (plan.status, plan.penalty, plan.paid_amount),
        "repayment": (repayment.status, repayment.principal, repayment.interest, repayment.commission,
                      repayment.total),
        "receivables": sorted(ReceivablePlan.objects.filter(plan=plan).values_list("status", "received_amount")),
        "borrower_records": list(FundRecord.objects.filter(user=project.borrower).order_by("pk")
                                 .values_list("type", "amount", "available_after", "frozen_after"))[-2:],
    }


def bank_batches() -> list[BankRequest]:
    return list(BankRequest.objects.using("bank").filter(service_name="BATCH").order_by("id"))


def assert_agreement(*users) -> None:
    for user in users:
        assert bank_balance(user.user_no) == mirror(user), user.username
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []


def test_auto_repayment_goes_in_batches_and_ends_as_a_repayment_alone(live, reviewer, finance, platform_key):
    a, b = customer(balance=10_000_00), customer(balance=5_000_00)
    borrowers = [customer(kyc_limit=1_000_000_00) for _ in range(4)]
    projects = [disbursed(borrower, reviewer, finance, [a, b], [2_000_00, 1_000_00], amount=3_000_00, months=3,
                          method="EQUAL_PRINCIPAL") for borrower in borrowers]
    # The borrower of the last loan repays by hand: the reference for what the job must do.
    # (The bids' freezes went through the outbox; the repayment's requests do not.)
    before = DepositoryRequest.objects.order_by("-pk").values_list("pk", flat=True).first()
    own = services.repay_start(borrower=borrowers[3], plan_id=first_plan(projects[3]).pk)
    own.refresh_from_db()
    assert own.status == "DONE" and not DepositoryRequest.objects.filter(outbox=True, pk__gt=before).exists()
    # The bank will refuse one freeze although the platform's mirror says the money is there:
    # the borrower took it out at the bank (a withdrawal the platform never asked for).
    poor = borrowers[2]
    assert withdraw(platform_key, poor.user_no, bank_balance(poor.user_no)[0] - 100).status == "SUCCESS"
    income = bank_income()

    due = first_plan(projects[0]).due_date
    bids = len(bank_batches())  # the bids' freezes went as BATCHes too
    assert services.auto_repay(today=due, workers=2) == {"started": 3, "skipped": 0, "errors": 0}
    # One BATCH of the three freezes, one of the two confirmations that followed.
    freezes, confirms = bank_batches()[bids:]
    assert [i["serviceName"] for i in freezes.req_data["items"]] == ["USER_PRE_TRANSACTION"] * 3
    assert [i["serviceName"] for i in confirms.req_data["items"]] == ["CONFIRM_REPAYMENT"] * 2
    auto = DepositoryRequest.objects.filter(outbox=True, pk__gt=before)
    assert auto.count() == 5 and set(auto.values_list("status", "applied_from")) == {
        ("SUCCESS", "batch"), ("FAIL", "batch")}
    for project in projects[:2]:
        assert outcome(project) == outcome(projects[3])
        assert first_plan(project).repayment.auto
    refused = first_plan(projects[2])
    assert (refused.status, refused.repayment_id) == ("DUE", None)
    assert Repayment.objects.get(project=projects[2]).status == "FAILED"
    assert bank_income() - income == 2 * (own.commission)
    assert_agreement(a, b, *borrowers[:2], borrowers[3])
    # The next run tries the refused period again (the platform still believes the money is
    # there), and only it.
    assert services.auto_repay(today=due) == {"started": 1, "skipped": 0, "errors": 0}
    assert list(Repayment.objects.filter(project=projects[2]).values_list("status", flat=True)) == ["FAILED"] * 2
    assert first_plan(projects[2]).status == "DUE"
    assert invariants.total_balance() == 0


def test_a_run_whose_sender_died_is_finished_once_by_the_next(live, reviewer, finance):
    a = customer(balance=10_000_00)
    borrowers = [customer(kyc_limit=1_000_000_00) for _ in range(3)]
    projects = [disbursed(borrower, reviewer, finance, [a], [1_000_00], amount=1_000_00, months=3,
                          method="EQUAL_PRINCIPAL") for borrower in borrowers]
    due = first_plan(projects[0]).due_date
    # The bank executes the freezes' BATCH; the job never hears back (it died there, before
    # it could give its claims back).
    lost = dataclasses.replace(outbox.get_client(transport=ForwardThen(lose={1: "timeout"})), retries=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox, "get_client", lambda: lost)
        patch.setattr(outbox, "outbox_release", lambda pks, **holder: 0)
        assert services.auto_repay(today=due) == {"started": 3, "skipped": 0, "errors": 0}
    assert set(Repayment.objects.values_list("status", flat=True)) == {"FREEZING"}
    # Neither a new run nor a sender takes the periods or the claimed freezes meanwhile.
    assert services.auto_repay(today=due) == {"started": 0, "skipped": 0, "errors": 0}
    assert outbox.drain() == {"batches": 0, "items": 0}
    lapsed = timezone.now() - dt.timedelta(seconds=settings.DEPOSITORY_OUTBOX_LEASE_SECONDS + 1)
    DepositoryRequest.objects.filter(outbox=True).update(claimed_at=lapsed)
    assert outbox.drain() == {"batches": 2, "items": 6}
    for project in projects:
        plan = first_plan(project)
        assert plan.status == "REPAID" and Repayment.objects.filter(project=project).count() == 1
    assert FundRecord.objects.filter(user=a, type="RECEIVABLE").count() == 3
    assert_agreement(a, *borrowers)
