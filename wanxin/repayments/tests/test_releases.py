"""Releases the bank refused: a failed repayment's freeze and a cancelled loan's tender stay
frozen (CANCELLING / FROZEN) and are listed for a finance officer, who sends the release
again as a new request; nothing else changes until the bank releases the money."""

from __future__ import annotations

import pytest
from django.test import Client

from wanxin.audit import roles
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f
from wanxin.bank import invariants
from wanxin.core.errors import Conflict, NotFound
from wanxin.depository.models import DepositoryRequest
from wanxin.lending import services as lending
from wanxin.lending.models import Tender
from wanxin.lending.tests.conftest import bank_balance, bank_frozen_on
from wanxin.repayments import selectors, services
from wanxin.repayments.models import Repayment, RepaymentPlan

from .conftest import collecting, customer, mirror, recover

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
TOTAL = 343_334  # period 1 of the ``loan`` fixture


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def refuse_next(service: str) -> DepositoryRequest:
    """Make the pending request of ``service`` one the bank refuses (an unknown
    preRequestNo: 30010), as a stand-in for any refusal."""
    record = DepositoryRequest.objects.get(service_name=service, status="PENDING")
    record.payload = {**record.payload, "preRequestNo": "WXNOSUCHFREEZE"}
    record.save()
    return record


def stuck_repayment(loan, outage) -> Repayment:
    """Period 1's confirmation refused (amounts changed), then its release refused too."""
    borrower = loan["borrower"]
    plan = RepaymentPlan.objects.filter(project=loan["project"]).order_by("number").first()
    outage({"CONFIRM_REPAYMENT", "CANCEL_PRE_TRANSACTION"}, lost="request")
    repayment = services.repay_start(borrower=borrower, plan_id=plan.pk)
    confirm = DepositoryRequest.objects.get(service_name="CONFIRM_REPAYMENT")
    confirm.payload = {**confirm.payload, "commission": confirm.payload["commission"] + 1}
    confirm.save()
    outage({"CANCEL_PRE_TRANSACTION"}, lost="request")
    assert recover() == {"resent": 1}  # refused: the release is issued, and lost on the way
    refuse_next("CANCEL_PRE_TRANSACTION")
    outage.stop()
    assert recover() == {"resent": 1}
    repayment.refresh_from_db()
    return repayment


def test_refused_release_of_a_repayment_is_listed_and_retried(loan, outage, finance):
    borrower = loan["borrower"]
    repayment = stuck_repayment(loan, outage)
    assert repayment.status == "CANCELLING"
    assert bank_balance(borrower.user_no) == (10_800_00 - TOTAL, TOTAL)  # still frozen at the bank
    plan = RepaymentPlan.objects.get(repayment=repayment)
    assert plan.status == "DUE"  # held by the attempt until the money is released
    [row] = selectors.releases_refused()
    assert (row.kind, row.id, row.amount, row.record.resp_code) == ("repayment", repayment.pk, TOTAL, "30010")
    page = client_for(finance).get("/loans/review/releases")
    assert page.status_code == 200 and repayment.request_no not in page.content.decode()
    assert f"repayment-{repayment.pk}" in page.content.decode() and "30010" in page.content.decode()

    refused_no = repayment.cancel_request_no
    answer = client_for(finance).post(f"/loans/review/releases/repayment/{repayment.pk}/retry", follow=True)
    assert answer.status_code == 200 and "sent to the bank again" in answer.content.decode()
    repayment.refresh_from_db()
    assert repayment.status == "FAILED" and repayment.cancel_request_no != refused_no
    assert DepositoryRequest.objects.get(request_no=refused_no).status == "FAIL"  # never reused
    assert bank_balance(borrower.user_no) == (10_800_00, 0) == mirror(borrower)
    plan.refresh_from_db()
    assert (plan.status, plan.repayment_id) == ("DUE", None)  # can be repaid again
    entry = AuditLog.objects.get(action="repayment.release_retry")
    assert (entry.actor_id, entry.before["cancel_request_no"]) == (finance.pk, refused_no)
    assert selectors.releases_refused() == []
    # A second click: nothing left to retry.
    again = client_for(finance).post(f"/loans/review/releases/repayment/{repayment.pk}/retry", follow=True)
    assert "only a refused release can be retried" in again.content.decode()
    assert DepositoryRequest.objects.filter(service_name="CANCEL_PRE_TRANSACTION").count() == 2
    assert invariants.total_balance() == 0


def test_retry_is_refused_without_permission_or_while_the_bank_has_not_answered(loan, outage, reviewer):
    repayment = stuck_repayment(loan, outage)
    for operator in (reviewer, f.operator(roles.CUSTOMER_SERVICE)):
        assert client_for(operator).get("/loans/review/releases").status_code == 403
        answer = client_for(operator).post(f"/loans/review/releases/repayment/{repayment.pk}/retry")
        assert answer.status_code == 403
    assert client_for(loan["borrower"]).get("/loans/review/releases").status_code in (302, 403)
    finance = f.operator(roles.FINANCE_OFFICER)
    # The release is pending again (not refused): retrying would race it.
    DepositoryRequest.objects.filter(request_no=repayment.cancel_request_no).update(status="PENDING")
    with pytest.raises(Conflict) as info:
        services.release_retry(operator=finance, repayment_id=repayment.pk)
    assert info.value.code == "not_refused"
    with pytest.raises(NotFound):
        services.release_retry(operator=finance, repayment_id=repayment.pk + 1000)
    assert client_for(finance).post("/loans/review/releases/loan/1/retry").status_code == 404
    huge = client_for(finance).post("/loans/review/releases/repayment/99999999999999999999999/retry", follow=True)
    assert huge.status_code == 200 and "No such repayment." in huge.content.decode()
    repayment.refresh_from_db()
    assert repayment.status == "CANCELLING"
    assert DepositoryRequest.objects.filter(service_name="CANCEL_PRE_TRANSACTION").count() == 1
    assert not AuditLog.objects.filter(action="repayment.release_retry").exists()


def test_refused_unfreeze_of_a_tender_is_listed_and_retried(live, reviewer, finance, outage):
    borrower = customer(balance=0, kyc_limit=1_000_000_00)
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=1_000_00)
    tender = lending.tender_place(investor=investor, project_id=project.pk, amount=500_00)
    outage({"CANCEL_PRE_TRANSACTION"}, lost="request")
    lending.project_miscarry(operator=reviewer, project_id=project.pk, reason="borrower withdrew")
    refuse_next("CANCEL_PRE_TRANSACTION")
    outage.stop()
    recover()
    tender.refresh_from_db()
    assert tender.status == "FROZEN" and bank_frozen_on(project.project_no) == 500_00
    [row] = selectors.releases_refused()
    assert (row.kind, row.id, row.customer) == ("tender", tender.pk, investor.username)

    answer = client_for(finance).post(f"/loans/review/releases/tender/{tender.pk}/retry", follow=True)
    assert "sent to the bank again" in answer.content.decode()
    tender = Tender.objects.get(pk=tender.pk)
    assert tender.status == "REFUNDED"
    assert bank_balance(investor.user_no) == (1_000_00, 0) == mirror(investor)
    assert AuditLog.objects.filter(action="tender.release_retry", actor=finance).count() == 1
    assert selectors.releases_refused() == []
    assert invariants.total_balance() == 0
