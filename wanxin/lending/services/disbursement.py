"""Paying out a full loan, maker-checker: a reviewer proposes, a finance officer who is not
the maker approves, CONFIRM_LOAN pays the borrower from every tender's freeze (``results``)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.duties import checker_independence_require
from wanxin.audit.guards import operator_require
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound
from wanxin.depository import services as depository

from .. import domain, locks, selectors
from ..models import Disbursement, Tender
from .transitions import Invalid, project_locked


def disbursement_propose(*, operator, project_id: int) -> Disbursement:
    """The maker: a loan reviewer proposes paying out a full loan."""
    operator_require(operator, "review_loans")
    with transaction.atomic():
        project = project_locked(project_id)
        if project.status != domain.FULL:
            raise Conflict(_("Only a full loan can be disbursed."), code="bad_status")
        if project.bank_status != domain.FULL:
            raise Conflict(_("The bank has not confirmed the loan is full yet; try again shortly."), code="bank_pending")
        if Disbursement.objects.filter(project=project, status__in=["PROPOSED", "SENT", "DONE"]).exists():
            raise Conflict(_("A disbursement of this loan is already proposed."), code="duplicate")
        proposal = Disbursement.objects.create(
            project=project, proposed_by=operator,
            commission=domain.service_fee(project.amount, project.service_fee_rate or Decimal(0)))
        audit_record(actor=operator, action=AuditAction.DISBURSEMENT_PROPOSE, target=proposal, before=None,
                     after={"project": project.project_no, "commission": proposal.commission})
    return proposal


def _locked_proposal(disbursement_id: int) -> Disbursement:
    proposal = locks.proposal_lock(disbursement_id)
    if proposal is None:
        raise NotFound(_("No such disbursement."), code="not_found")
    return _proposed(proposal)


def _proposed(proposal: Disbursement) -> Disbursement:
    if proposal.status != Disbursement.Status.PROPOSED:
        raise Conflict(_("This disbursement is %(status)s.") % {"status": proposal.get_status_display()},
                       code="bad_status")
    return proposal


def disbursement_approve(*, operator, disbursement_id: int) -> Disbursement:
    """The checker: a finance officer who did not propose it approves; CONFIRM_LOAN pays the
    borrower from every tender freeze and takes the service fee."""
    operator_require(operator, "approve_disbursement")
    with transaction.atomic():
        # The loan, then its proposal (the global lock order): the bank's CONFIRM_LOAN answer
        # takes them in the same order (results._on_confirm_loan).
        project, proposal = locks.project_and_proposal_lock(disbursement_id)
        if project is None or proposal is None:
            raise NotFound(_("No such disbursement."), code="not_found")
        proposal = _proposed(proposal)
        # Not the maker, nor an operator the maker created or gave the finance role.
        checker_independence_require(maker_id=proposal.proposed_by_id, checker=operator,
                                     permission="approve_disbursement")
        if project.status != domain.FULL or project.bank_status != domain.FULL:
            raise Conflict(_("The loan is not full at the bank."), code="bad_status")
        tenders = list(Tender.objects.filter(project=project, status=domain.T_FROZEN).order_by("pk"))
        if sum(t.amount for t in tenders) != project.amount:
            raise Conflict(_("The frozen tenders do not add up to the loan."), code="mismatch")
        record = depository.request_create(service_name="CONFIRM_LOAN", payload={
            "projectNo": project.project_no, "commission": proposal.commission,
            "details": [{"preRequestNo": t.request_no, "amount": t.amount} for t in tenders]},
            owner=proposal, user_no=selectors.user_no_of(project.borrower_id), amount=project.amount, prefix="WXL")
        Disbursement.objects.filter(pk=proposal.pk).update(status=Disbursement.Status.SENT, approved_by=operator,
                                                           decided_at=timezone.now(), request_no=record.request_no)
        audit_record(actor=operator, action=AuditAction.DISBURSEMENT_APPROVE, target=proposal,
                     before={"status": "PROPOSED"}, after={"status": "SENT", "request_no": record.request_no})
        depository.request_send_on_commit(record)
    proposal.refresh_from_db()
    return proposal


def disbursement_reject(*, operator, disbursement_id: int, reason: str) -> Disbursement:
    operator_require(operator, "approve_disbursement")
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 300:
        raise Invalid(_("Give a reason (at most 300 characters)."), code="reason")
    with transaction.atomic():
        proposal = _locked_proposal(disbursement_id)
        checker_independence_require(maker_id=proposal.proposed_by_id, checker=operator,
                                     permission="approve_disbursement")
        Disbursement.objects.filter(pk=proposal.pk).update(status=Disbursement.Status.REJECTED, approved_by=operator,
                                                           decided_at=timezone.now(), note=reason)
        audit_record(actor=operator, action=AuditAction.DISBURSEMENT_REJECT, target=proposal,
                     before={"status": "PROPOSED"}, after={"status": "REJECTED", "reason": reason})
    proposal.refresh_from_db()
    return proposal
