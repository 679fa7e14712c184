"""The one lock order (docs/decisions/0003) keeps an approval racing the bank's CONFIRM_LOAN
answer free of deadlock: both take the loan, then its proposal. Before, the answer took the
proposal, tenders and accounts and then the loan, while an approval took the loan, then the
proposal.

The race runs ``WANXIN_LOCK_RACE_RUNS`` times (1 in the suite); the acceptance run is
``WANXIN_LOCK_RACE_RUNS=50 pytest wanxin/lending/tests/test_lock_order.py``: 50 in a row."""

from __future__ import annotations

import itertools
import os
import threading

import pytest
from django.db import OperationalError

from wanxin.core.errors import Conflict
from wanxin.core.ids import new_request_no
from wanxin.depository import services as depository
from wanxin.depository.client import get_client
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import FundRecord
from wanxin.lending import services
from wanxin.lending.models import Disbursement, Tender
from wanxin.repayments.models import RepaymentPlan
from wanxin.testing import at_once

from .conftest import bank_balance, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

RUNS = int(os.environ.get("WANXIN_LOCK_RACE_RUNS", "1"))
APPROVALS = ANSWERS = 3  # threads of each kind, released together


@pytest.fixture
def answer_lost(outage):
    """The bank executes CONFIRM_LOAN but its answer never reaches the platform."""
    outage({"CONFIRM_LOAN"}, lost="answer")


@pytest.mark.parametrize("run", range(RUNS))
def test_approval_racing_the_confirm_loan_answer_never_deadlocks(live, borrower, reviewer, finance, answer_lost, run):
    investors = [customer(balance=5_000_00), customer(balance=5_000_00)]
    project = collecting(borrower, reviewer, amount=6_000_00)
    for investor, amount in zip(investors, [3_000_00, 3_000_00], strict=True):
        services.tender_place(investor=investor, project_id=project.pk, amount=amount)
    project.refresh_from_db()
    assert project.status == "FULL"
    proposal = services.disbursement_propose(operator=reviewer, project_id=project.pk)
    proposal = services.disbursement_approve(operator=finance, disbursement_id=proposal.pk)
    assert proposal.status == "SENT"  # the bank paid out; its answer is still to come
    answer = get_client().send("QUERY_REQUEST", {"requestNo": new_request_no("Q"),
                                                 "queryRequestNo": proposal.request_no})["result"]
    assert answer["respCode"] == "00000"

    roles = itertools.cycle(["approve", "answer"])
    pick = threading.Lock()

    def race():
        with pick:
            role = next(roles)
        if role == "approve":  # a second click on "approve" while the answer is applied
            return services.disbursement_approve(operator=finance, disbursement_id=proposal.pk)
        return depository.result_apply(resp_data=answer, source="notify")

    outcomes = at_once(race, APPROVALS + ANSWERS)

    deadlocks = [o for o in outcomes if isinstance(o, OperationalError)]
    assert deadlocks == []
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, Conflict)]
    assert unexpected == []
    assert sum(isinstance(o, Conflict) and o.code == "bad_status" for o in outcomes) == APPROVALS
    # Exactly one disbursement: applied once, paid once, planned once.
    proposal.refresh_from_db()
    project.refresh_from_db()
    assert proposal.status == "DONE" and project.status == "REPAYING"
    assert DepositoryRequest.objects.get(request_no=proposal.request_no).status == "SUCCESS"
    assert Disbursement.objects.filter(project=project).count() == 1
    assert FundRecord.objects.filter(request_no=proposal.request_no, type="LOAN_RECEIVED").count() == 1
    assert sorted(Tender.objects.filter(project=project).values_list("status", flat=True)) == ["LOANED"] * 2
    assert RepaymentPlan.objects.filter(project=project).count() == project.months
    assert bank_balance(borrower.user_no) == (6_000_00 - proposal.commission, 0)
