"""Cancelling a loan (MISCARRIED here and at the bank) and unfreezing its tenders, one
CANCEL_PRE_TRANSACTION each, resumable; retrying a release the bank refused."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.guards import SYSTEM, operator_require
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound
from wanxin.core.ids import new_request_no
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.notifications.services import sms_on_commit

from .. import domain, locks, selectors
from ..models import Disbursement, Project, Tender
from .transitions import Invalid, project_locked, project_move, project_state, project_status_report


def tender_refund_issue(tender: Tender) -> bool:
    """Record the CANCEL_PRE_TRANSACTION of a frozen tender once (conditional UPDATE) and
    send it after the commit. Returns False when it was already issued."""
    request_no = new_request_no("WXU")
    if not Tender.objects.filter(pk=tender.pk, status=domain.T_FROZEN, cancel_request_no="").update(
            cancel_request_no=request_no):
        return False
    record = depository.request_create(
        service_name="CANCEL_PRE_TRANSACTION", payload={"preRequestNo": tender.request_no}, owner=tender,
        user_no=selectors.user_no_of(tender.investor_id), amount=tender.amount, request_no=request_no)
    depository.request_send_on_commit(record)
    return True


def refunds_issue(*, project_id: int) -> int:
    """Unfreeze every frozen tender of a miscarried loan not yet asked for (resumable)."""
    issued = 0
    ids = list(Tender.objects.filter(project_id=project_id, project__status=domain.MISCARRIED,
                                     status=domain.T_FROZEN, cancel_request_no="").values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            tender = locks.tender_lock(pk)
            if tender is not None and tender_refund_issue(tender):
                issued += 1
    return issued


def project_miscarry(*, operator, project_id: int, reason: str = "") -> Project:
    """Cancel a collecting (or full, not yet disbursed) loan: MISCARRIED here and at the
    bank, every frozen tender unfrozen, investors told. ``operator`` ``SYSTEM`` is the
    window-close job, which only miscarries a collecting loan whose window closed unfilled."""
    if operator is not SYSTEM:
        operator_require(operator, "review_loans")
        reason = " ".join((reason or "").split())
        if not reason or len(reason) > 300:
            raise Invalid(_("Say why the loan is cancelled (at most 300 characters)."), code="reason")
    with transaction.atomic():
        project = project_locked(project_id)
        if operator is SYSTEM:
            if (project.status != domain.COLLECTING or project.collect_until is None
                    or project.collect_until > timezone.now() or project.raised >= project.amount):
                raise Conflict(_("This loan's window is still open or it is filled."), code="not_due")
            reason = "the fundraising window closed before the loan was filled"
        if Disbursement.objects.filter(project=project, status=Disbursement.Status.SENT).exists():
            raise Conflict(_("The disbursement is at the bank; the loan cannot be cancelled now."), code="disbursing")
        before = project_state(project)
        project_move(project, domain.MISCARRIED, miscarried_at=timezone.now(), miscarry_reason=reason)
        Disbursement.objects.filter(project=project, status=Disbursement.Status.PROPOSED).update(
            status=Disbursement.Status.CANCELLED, decided_at=timezone.now(), note="loan cancelled")
        project_status_report(project, domain.MISCARRIED)
        if operator is not SYSTEM:
            audit_record(actor=operator, action=AuditAction.LOAN_MISCARRY, target=project, before=before,
                         after={**project_state(project), "reason": reason})
        mobiles = (Tender.objects.filter(project=project, status__in=[domain.T_PENDING, domain.T_FROZEN])
                   .values_list("investor__mobile", flat=True).distinct())
        for mobile in mobiles:
            sms_on_commit(mobile, "loan_miscarried",
                              f"Loan {project.project_no} was cancelled ({reason[:60]}); your investment "
                              "is being unfrozen.")
    refunds_issue(project_id=project.pk)
    return project


def miscarry_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The job: miscarry every collecting loan whose window closed unfilled, and resume
    the refunds of miscarried loans (idempotent)."""
    now = now or timezone.now()
    counts = {"miscarried": 0, "refunds": 0}
    due = Project.objects.filter(status=domain.COLLECTING, collect_until__lte=now,
                                 raised__lt=F("amount")).values_list("pk", flat=True)
    for pk in list(due):
        try:
            project_miscarry(operator=SYSTEM, project_id=pk)
            counts["miscarried"] += 1
        except Conflict:
            pass
    resume = (Tender.objects.filter(project__status=domain.MISCARRIED, status=domain.T_FROZEN, cancel_request_no="")
              .values_list("project_id", flat=True).distinct())
    for pk in list(resume):
        counts["refunds"] += refunds_issue(project_id=pk)
    return counts


def release_reissue(owner, *, operator, action: AuditAction, pre_request_no: str, amount: int) -> DepositoryRequest:
    """Ask the bank again to release a freeze after it refused the owner's (a tender's or a
    repayment's) CANCEL_PRE_TRANSACTION: a new request with a new requestNo, only while the
    previous one stands refused; the owner is re-linked, the operator's action audited, and
    the request sent after the commit. Call with the owner's row locked."""
    refused = depository.refused_request(owner.cancel_request_no)
    record = depository.request_create(service_name="CANCEL_PRE_TRANSACTION", payload={"preRequestNo": pre_request_no},
                                       owner=owner, user_no=refused.user_no, amount=amount, prefix="WXU")
    type(owner).objects.filter(pk=owner.pk).update(cancel_request_no=record.request_no)
    owner.cancel_request_no = record.request_no
    audit_record(actor=operator, action=action, target=owner,
                 before={"cancel_request_no": refused.request_no, "refused": refused.resp_code},
                 after={"cancel_request_no": record.request_no})
    depository.request_send_on_commit(record)
    return record


def tender_release_retry(*, operator, tender_id: int) -> Tender:
    """Ask the bank again to unfreeze a cancelled loan's tender after it refused the first
    CANCEL_PRE_TRANSACTION (the tender stays FROZEN, the investor's money held, until the
    bank releases it). A finance officer's action, audited."""
    operator_require(operator, "approve_disbursement")
    with transaction.atomic():
        tender = locks.tender_lock(tender_id)
        if tender is None:
            raise NotFound(_("No such tender."), code="not_found")
        if tender.status != domain.T_FROZEN or not tender.cancel_request_no:
            raise Conflict(_("Only a tender whose unfreeze the bank refused can be retried."), code="bad_status")
        release_reissue(tender, operator=operator, action=AuditAction.TENDER_RELEASE_RETRY, pre_request_no=tender.request_no,
                        amount=tender.amount)
    return tender
