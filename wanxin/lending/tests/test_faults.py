"""The bank does not answer during a bid, a disbursement or a miscarry: the reservation
holds, nothing is lost or done twice, and recovery (QUERY_REQUEST) brings platform and bank
to agreement. Also double submits of a bid."""

from __future__ import annotations

import pytest

from wanxin.bank import invariants
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import FundRecord
from wanxin.lending import services
from wanxin.lending.models import Disbursement, Project, Tender
from wanxin.testing.faults import recover

from .conftest import bank_balance, bank_frozen_on, bank_project, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


@pytest.mark.parametrize("lost", ["request", "answer"])
def test_bid_timeout_then_recovery(live, borrower, reviewer, outage, lost):
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=5_000_00)
    outage({"USER_PRE_TRANSACTION"}, lost=lost)
    tender = services.tender_place(investor=investor, project_id=project.pk, amount=1_000_00)
    tender.refresh_from_db()
    project.refresh_from_db()
    assert tender.status == "PENDING" and (project.raised, project.frozen_amount) == (1_000_00, 0)
    assert bank_frozen_on(project.project_no) == (1_000_00 if lost == "answer" else 0)
    outage.stop()
    assert recover() == {"resent" if lost == "request" else "applied": 1}
    tender.refresh_from_db()
    project.refresh_from_db()
    assert tender.status == "FROZEN" and (project.raised, project.frozen_amount) == (1_000_00, 1_000_00)
    assert bank_balance(investor.user_no) == (4_000_00, 1_000_00)
    assert FundRecord.objects.filter(user=investor).count() == 1
    assert recover() == {}
    assert invariants.total_balance() == 0


def test_disbursement_and_modify_timeouts_then_recovery(live, borrower, reviewer, finance, outage):
    project = collecting(borrower, reviewer, amount=1_000_00)
    investor = customer(balance=1_000_00)
    services.tender_place(investor=investor, project_id=project.pk, amount=1_000_00)
    proposal = services.disbursement_propose(operator=reviewer, project_id=project.pk)
    outage({"CONFIRM_LOAN", "MODIFY_PROJECT"}, lost="answer")
    proposal = services.disbursement_approve(operator=finance, disbursement_id=proposal.pk)
    assert proposal.status == "SENT"
    assert bank_balance(borrower.user_no) == (1_000_00 - 20_00, 0)  # done at the bank, unknown here
    assert Project.objects.get(pk=project.pk).status == "FULL"
    outage.stop()
    assert recover() == {"applied": 1}
    assert Disbursement.objects.get(pk=proposal.pk).status == "DONE"
    project.refresh_from_db()
    assert project.status == "REPAYING"
    # The MODIFY_PROJECT REPAYING was sent after the recovery applied the loan.
    assert (project.bank_status, bank_project(project.project_no).status) == ("REPAYING", "REPAYING")
    assert list(FundRecord.objects.filter(user=borrower).order_by("pk").values_list("type", flat=True)) == [
        "LOAN_RECEIVED", "LOAN_COMMISSION"]
    assert recover() == {}
    assert bank_balance(borrower.user_no) == (1_000_00 - 20_00, 0)
    assert invariants.total_balance() == 0


def test_miscarry_with_the_bank_away_completes_on_recovery(live, borrower, reviewer, outage):
    project = collecting(borrower, reviewer, amount=2_000_00)
    a, b = customer(balance=1_000_00), customer(balance=1_000_00)
    services.tender_place(investor=a, project_id=project.pk, amount=500_00)
    services.tender_place(investor=b, project_id=project.pk, amount=700_00)
    outage({"CANCEL_PRE_TRANSACTION", "MODIFY_PROJECT"}, lost="request")
    services.project_miscarry(operator=reviewer, project_id=project.pk, reason="borrower withdrew")
    assert Project.objects.get(pk=project.pk).status == "MISCARRIED"
    assert sorted(Tender.objects.values_list("status", flat=True)) == ["FROZEN", "FROZEN"]
    assert bank_frozen_on(project.project_no) == 1_200_00
    assert services.miscarry_due() == {"miscarried": 0, "refunds": 0}  # already issued, pending
    outage.stop()
    assert recover() == {"resent": 3}
    assert sorted(Tender.objects.values_list("status", flat=True)) == ["REFUNDED", "REFUNDED"]
    assert bank_project(project.project_no).status == "MISCARRIED"
    assert bank_balance(a.user_no) == (1_000_00, 0) and bank_balance(b.user_no) == (1_000_00, 0)
    assert invariants.total_balance() == 0


def test_double_submit_places_one_bid(live, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=5_000_00)
    first = services.tender_place_once(investor=investor, project_id=project.pk, amount=500_00, token="form-1")
    again = services.tender_place_once(investor=investor, project_id=project.pk, amount=500_00, token="form-1")
    assert first.pk == again.pk and Tender.objects.count() == 1
    assert DepositoryRequest.objects.filter(service_name="USER_PRE_TRANSACTION").count() == 1
    services.tender_place_once(investor=investor, project_id=project.pk, amount=500_00, token="form-2")
    assert Project.objects.get(pk=project.pk).raised == 1_000_00
    assert bank_balance(investor.user_no) == (4_000_00, 1_000_00)
