"""Application, review, investing, miscarry and disbursement against the bank over live
HTTP: exact state after each step; refusals change nothing; the bank's books sum to zero."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError
from django.utils import timezone

from wanxin.audit import roles
from wanxin.audit.guards import SYSTEM, Forbidden
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f
from wanxin.bank import invariants
from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.kyc.models import KycApplication
from wanxin.lending import services
from wanxin.lending.models import Disbursement, LoanApplication, Project, Tender
from wanxin.testing import db_fault

from .conftest import (
    TERMS,
    applied,
    bank_balance,
    bank_frozen_on,
    bank_income,
    bank_project,
    collecting,
    customer,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def world() -> dict:
    """Everything lending and funds keep, to compare before and after a refusal."""
    return {
        "projects": list(Project.objects.order_by("pk").values()),
        "tenders": list(Tender.objects.order_by("pk").values()),
        "applications": LoanApplication.objects.count(),
        "disbursements": list(Disbursement.objects.order_by("pk").values()),
        "requests": list(DepositoryRequest.objects.exclude(service_name="QUERY_BALANCE").order_by("pk")
                         .values_list("request_no", "status")),
        "records": list(FundRecord.objects.order_by("pk").values_list("request_no", "type", "amount")),
        "accounts": list(DepositoryAccount.objects.order_by("pk").values_list("user_no", "available", "frozen")),
        "audit": AuditLog.objects.count(),
    }


def refused(exc_type, fn, **kwargs) -> WanxinError:
    before = world()
    with pytest.raises(exc_type) as info:
        fn(**kwargs)
    assert world() == before
    return info.value


def records(user) -> list[tuple[str, int, int, int]]:
    return list(FundRecord.objects.filter(user=user).order_by("pk")
                .values_list("type", "amount", "available_after", "frozen_after"))


def bid(investor, project, amount):
    return services.tender_place(investor=investor, project_id=project.pk, amount=amount)


# -- application ----------------------------------------------------------------------------------


def data(**kw) -> services.ApplicationInput:
    base = {"amount": 10_000_00, "months": 6, "method": "EQUAL_INSTALLMENT", "purpose": "Shop", "description": ""}
    return services.ApplicationInput(**{**base, **kw})


def test_application_rules(live):
    no_kyc = customer()
    refused(Conflict, services.application_submit, borrower=no_kyc, data=data())
    no_account = customer(account=False, kyc_limit=10_000_000)
    refused(Conflict, services.application_submit, borrower=no_account, data=data())
    high_risk = customer(kyc_limit=10_000_000)
    KycApplication.objects.filter(customer=high_risk).update(rating="HR")
    assert refused(Conflict, services.application_submit, borrower=high_risk, data=data()).code == "high_risk"
    borrower = customer(kyc_limit=50_000_00)
    for bad, field in [({"amount": -100_00}, "amount"), ({"amount": 0}, "amount"), ({"amount": 10.5}, "amount"),
                       ({"amount": 10_000_01}, "amount"), ({"amount": 50_100_00}, "amount"),
                       ({"amount": "1000000"}, "amount"), ({"months": 0}, "months"), ({"months": 37}, "months"),
                       ({"method": "WEEKLY"}, "method"), ({"purpose": " "}, "purpose")]:
        err = refused(services.Invalid, services.application_submit, borrower=borrower, data=data(**bad))
        assert err.code == field, bad
    operator = f.operator(roles.LOAN_REVIEWER)
    refused(WanxinError, services.application_submit, borrower=operator, data=data())

    project = services.application_submit(borrower=borrower, data=data(amount=50_000_00))
    assert (project.status, project.amount, project.months, project.raised) == ("PENDING_REVIEW", 50_000_00, 6, 0)
    assert project.application.purpose == "Shop"
    err = refused(Conflict, services.application_submit, borrower=borrower, data=data())
    assert err.code == "already_open"


# -- review ---------------------------------------------------------------------------------------


def test_review_approve_registers_at_the_bank_then_collecting(live, borrower, reviewer):
    project = applied(borrower)
    finance = f.operator(roles.FINANCE_OFFICER)
    refused(Forbidden, services.project_approve, operator=finance, project_id=project.pk, terms=TERMS)
    refused(Forbidden, services.project_approve, operator=borrower, project_id=project.pk, terms=TERMS)
    for bad, field in [({"investor_rate": Decimal("0.13")}, "investor_rate"),
                       ({"borrower_rate": Decimal("0.37")}, "borrower_rate"),
                       ({"borrower_rate": Decimal("0.1234567")}, "borrower_rate"),
                       ({"increment": 300_00}, "increment"), ({"min_investment": 150_00}, "increment"),
                       ({"per_investor_cap": 50_00}, "per_investor_cap"), ({"window_days": 0}, "window_days")]:
        err = refused(services.Invalid, services.project_approve, operator=reviewer, project_id=project.pk,
                      terms=dataclasses.replace(TERMS, **bad))
        assert err.code == field, bad

    project = services.project_approve(operator=reviewer, project_id=project.pk, terms=TERMS)
    assert (project.status, project.bank_status) == ("COLLECTING", "COLLECTING")
    assert project.investor_rate == Decimal("0.100000") and project.borrower_rate == Decimal("0.120000")
    assert project.collect_until - project.published_at == dt.timedelta(days=7)
    at_bank = bank_project(project.project_no)
    assert (at_bank.status, at_bank.amount, at_bank.annual_rate, at_bank.periods) == (
        "COLLECTING", 10_000_00, Decimal("0.120000"), 6)
    assert AuditLog.objects.filter(action="loan.approve", actor=reviewer, target_id=str(project.pk)).count() == 1
    # Approved once: approving or rejecting again is refused.
    refused(Conflict, services.project_approve, operator=reviewer, project_id=project.pk, terms=TERMS)
    refused(Conflict, services.project_reject, operator=reviewer, project_id=project.pk, reason="no")
    refused(NotFound, services.project_approve, operator=reviewer, project_id=999999, terms=TERMS)


def test_reject_tells_the_borrower(live, borrower, reviewer, sms):
    project = applied(borrower)
    refused(services.Invalid, services.project_reject, operator=reviewer, project_id=project.pk, reason="  ")
    project = services.project_reject(operator=reviewer, project_id=project.pk, reason="Income too low")
    assert project.status == "REJECTED"
    assert [(m.mobile, "Income too low" in m.text) for m in sms] == [(borrower.mobile, True)]
    assert AuditLog.objects.filter(action="loan.reject").count() == 1
    assert bank_project(project.project_no) is None
    # The borrower may apply again.
    assert applied(borrower).status == "PENDING_REVIEW"


# -- investing ---------------------------------------------------------------------------------------


def test_investing_rules_freeze_and_full(live, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=10_000_00)  # min 100, step 100, cap 5,000 yuan
    a, b = customer(balance=8_000_00), customer(balance=8_000_00)
    poor = customer(balance=300_00)
    no_auth = customer(balance=8_000_00, auth=["REPAYMENT"])
    no_account = customer(account=False)

    for amount, code in [(0, "amount"), (-100_00, "amount"), (150_00, "amount"), (50_00, "amount"),
                         (100_00.0, "amount"), ("10000", "amount"), (10_100_00, "amount"),
                         (9_950_00, "amount"), (5_100_00, "amount")]:
        err = refused(services.Invalid, bid, investor=a, project=project, amount=amount)
        assert err.code == code, amount
    assert refused(Conflict, bid, investor=borrower, project=project, amount=100_00).code == "own_loan"
    assert refused(Conflict, bid, investor=no_auth, project=project, amount=100_00).code == "not_authorised"
    assert refused(Conflict, bid, investor=no_account, project=project, amount=100_00).code == "no_account"

    t1 = bid(a, project, 3_000_00)
    t1.refresh_from_db()
    project.refresh_from_db()
    assert (t1.status, project.raised, project.frozen_amount, project.status) == ("FROZEN", 3_000_00, 3_000_00,
                                                                                "COLLECTING")
    assert bank_balance(a.user_no) == (5_000_00, 3_000_00)
    assert records(a) == [("FREEZE", -3_000_00, 5_000_00, 3_000_00)]
    # The cap counts the investor's live tenders: 3,000 + 2,100 > 5,000.
    assert refused(services.Invalid, bid, investor=a, project=project, amount=2_100_00).code == "amount"

    # The bank refuses (insufficient balance): the tender fails and the reservation is released.
    t_poor = bid(poor, project, 400_00)
    t_poor.refresh_from_db()
    project.refresh_from_db()
    assert t_poor.status == "FAILED" and "30042" in t_poor.fail_reason
    assert (project.raised, project.frozen_amount) == (3_000_00, 3_000_00)
    assert bank_balance(poor.user_no) == (300_00, 0) and records(poor) == []

    bid(b, project, 5_000_00)
    bid(a, project, 2_000_00)
    project.refresh_from_db()
    assert (project.raised, project.frozen_amount, project.status, project.bank_status) == (
        10_000_00, 10_000_00, "FULL", "FULL")
    assert bank_project(project.project_no).status == "FULL"
    assert bank_frozen_on(project.project_no) == 10_000_00
    assert refused(Conflict, bid, investor=poor, project=project, amount=100_00).code == "not_collecting"
    assert invariants.total_balance() == 0


def test_bid_that_would_leave_less_than_the_minimum(live, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=1_000_00,
                         terms=dataclasses.replace(TERMS, min_investment=300_00, per_investor_cap=1_000_00))
    investor = customer(balance=2_000_00)
    assert refused(services.Invalid, bid, investor=investor, project=project, amount=800_00).code == "amount"
    bid(investor, project, 700_00)
    # 300 remains: exactly that is allowed even though 200 would leave 100 < 300.
    assert refused(services.Invalid, bid, investor=customer(balance=500_00), project=project,
                   amount=200_00).code == "amount"
    bid(customer(balance=500_00), project, 300_00)
    project.refresh_from_db()
    assert project.status == "FULL"
    assert invariants.total_balance() == 0


# -- miscarry -------------------------------------------------------------------------------------------


def _funded(borrower, reviewer, investors, amounts, **kw):
    project = collecting(borrower, reviewer, **kw)
    for investor, amount in zip(investors, amounts, strict=True):
        bid(investor, project, amount)
    project.refresh_from_db()
    return project


def test_operator_cancel_unfreezes_everything_and_tells_investors(live, borrower, reviewer, sms):
    a, b = customer(balance=5_000_00), customer(balance=5_000_00)
    project = _funded(borrower, reviewer, [a, b, a], [1_000_00, 2_000_00, 500_00])
    assert bank_frozen_on(project.project_no) == 3_500_00
    refused(Forbidden, services.project_miscarry, operator=f.operator(roles.FINANCE_OFFICER),
            project_id=project.pk, reason="fraud suspected")
    refused(services.Invalid, services.project_miscarry, operator=reviewer, project_id=project.pk, reason="")
    refused(Conflict, services.project_miscarry, operator=SYSTEM, project_id=project.pk)  # job: window still open

    project = services.project_miscarry(operator=reviewer, project_id=project.pk, reason="fraud suspected")
    project.refresh_from_db()
    assert (project.status, project.bank_status) == ("MISCARRIED", "MISCARRIED")
    assert bank_project(project.project_no).status == "MISCARRIED"
    assert sorted(Tender.objects.filter(project=project).values_list("status", flat=True)) == ["REFUNDED"] * 3
    assert bank_frozen_on(project.project_no) == 0
    assert bank_balance(a.user_no) == (5_000_00, 0) and bank_balance(b.user_no) == (5_000_00, 0)
    assert records(b) == [("FREEZE", -2_000_00, 3_000_00, 2_000_00), ("UNFREEZE", 2_000_00, 5_000_00, 0)]
    assert [r[0] for r in records(a)] == ["FREEZE", "FREEZE", "UNFREEZE", "UNFREEZE"]
    assert DepositoryAccount.objects.get(user=a).available == 5_000_00
    assert sorted(m.mobile for m in sms) == sorted([a.mobile, b.mobile])
    assert AuditLog.objects.filter(action="loan.miscarry").count() == 1
    # Idempotent: again is refused and the job finds nothing to do.
    refused(Conflict, services.project_miscarry, operator=reviewer, project_id=project.pk, reason="again")
    before = world()
    assert services.miscarry_due() == {"miscarried": 0, "refunds": 0}
    assert world() == before
    assert invariants.total_balance() == 0


def test_window_close_job_miscarries_and_resumes(live, borrower, reviewer):
    a = customer(balance=5_000_00)
    project = _funded(borrower, reviewer, [a, a], [1_000_00, 1_000_00])
    Project.objects.filter(pk=project.pk).update(collect_until=timezone.now() - dt.timedelta(seconds=1))
    # A crash after the miscarry committed but before any refund was recorded: the database
    # refuses the first unfreeze request, and the job stops there.
    with db_fault("depository_depositoryrequest", "NEW.service_name = 'CANCEL_PRE_TRANSACTION'"), \
            pytest.raises(DatabaseError):
        services.miscarry_due()
    assert Project.objects.get(pk=project.pk).status == "MISCARRIED"
    assert set(Tender.objects.filter(project=project).values_list("cancel_request_no", flat=True)) == {""}
    assert bank_balance(a.user_no) == (3_000_00, 2_000_00)
    assert services.miscarry_due() == {"miscarried": 0, "refunds": 2}
    assert services.miscarry_due() == {"miscarried": 0, "refunds": 0}
    assert bank_balance(a.user_no) == (5_000_00, 0)
    assert bank_project(project.project_no).status == "MISCARRIED"
    assert invariants.total_balance() == 0


def test_full_loan_is_not_miscarried_by_the_job(live, borrower, reviewer):
    project = _funded(borrower, reviewer, [customer(balance=5_000_00)], [1_000_00], amount=1_000_00)
    Project.objects.filter(pk=project.pk).update(collect_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.miscarry_due() == {"miscarried": 0, "refunds": 0}
    assert Project.objects.get(pk=project.pk).status == "FULL"


# -- disbursement ------------------------------------------------------------------------------------------


def test_disbursement_maker_checker(live, borrower, reviewer, finance):
    a, b = customer(balance=6_000_00), customer(balance=6_000_00)
    project = _funded(borrower, reviewer, [a, b], [4_000_00, 6_000_00 - 0], amount=10_000_00,
                      terms=dataclasses.replace(TERMS, per_investor_cap=6_000_00))
    assert project.status == "FULL"
    income = bank_income()
    refused(Forbidden, services.disbursement_propose, operator=finance, project_id=project.pk)
    proposal = services.disbursement_propose(operator=reviewer, project_id=project.pk)
    assert (proposal.status, proposal.commission) == ("PROPOSED", 20_000)  # 2% of 10,000 yuan
    refused(Conflict, services.disbursement_propose, operator=reviewer, project_id=project.pk)
    refused(Forbidden, services.disbursement_approve, operator=reviewer, disbursement_id=proposal.pk)
    # An operator holding both permissions cannot approve their own proposal.
    admin = f.operator(roles.LOAN_REVIEWER, roles.FINANCE_OFFICER)
    Disbursement.objects.filter(pk=proposal.pk).update(proposed_by=admin)
    err = refused(Forbidden, services.disbursement_approve, operator=admin, disbursement_id=proposal.pk)
    assert err.code == "four_eyes"

    proposal = services.disbursement_approve(operator=finance, disbursement_id=proposal.pk)
    project.refresh_from_db()
    assert (proposal.status, proposal.approved_by_id) == ("DONE", finance.pk)
    assert (project.status, project.bank_status) == ("REPAYING", "REPAYING")
    assert sorted(Tender.objects.filter(project=project).values_list("status", flat=True)) == ["LOANED"] * 2
    assert bank_balance(borrower.user_no) == (10_000_00 - 200_00, 0)
    assert bank_income() - income == 200_00
    assert bank_balance(a.user_no) == (2_000_00, 0) and bank_balance(b.user_no) == (0, 0)
    assert records(borrower) == [("LOAN_RECEIVED", 10_000_00, 10_000_00, 0),
                                 ("LOAN_COMMISSION", -200_00, 9_800_00, 0)]
    assert records(a) == [("FREEZE", -4_000_00, 2_000_00, 4_000_00), ("TENDER", -4_000_00, 2_000_00, 0)]
    assert AuditLog.objects.filter(action__startswith="loan.disbursement").count() == 2
    refused(Conflict, services.disbursement_approve, operator=finance, disbursement_id=proposal.pk)
    refused(Conflict, services.project_miscarry, operator=reviewer, project_id=project.pk, reason="late")
    assert invariants.total_balance() == 0


def test_disbursement_reject_then_cancel(live, borrower, reviewer, finance):
    a = customer(balance=2_000_00)
    project = _funded(borrower, reviewer, [a], [1_000_00], amount=1_000_00)
    proposal = services.disbursement_propose(operator=reviewer, project_id=project.pk)
    refused(services.Invalid, services.disbursement_reject, operator=finance, disbursement_id=proposal.pk,
            reason="")
    proposal = services.disbursement_reject(operator=finance, disbursement_id=proposal.pk, reason="docs missing")
    assert proposal.status == "REJECTED"
    services.project_miscarry(operator=reviewer, project_id=project.pk, reason="borrower withdrew")
    assert Project.objects.get(pk=project.pk).status == "MISCARRIED"
    assert bank_balance(a.user_no) == (2_000_00, 0)
    assert invariants.total_balance() == 0
