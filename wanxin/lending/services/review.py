"""Review of an application: approved with terms (the project is registered at the bank,
CREATE_PROJECT; ``results`` makes it COLLECTING on SUCCESS) or rejected with a reason."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.guards import operator_require
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict
from wanxin.depository import services as depository
from wanxin.funds.models import DepositoryAccount
from wanxin.notifications.services import sms_on_commit

from .. import domain
from ..models import Project
from .transitions import Invalid, project_locked, project_move, project_state, rule_invalid


def project_approve(*, operator, project_id: int, terms: domain.Terms) -> Project:
    """Approve with terms: the project is registered at the bank (CREATE_PROJECT) and
    becomes COLLECTING when the bank says SUCCESS."""
    operator_require(operator, "review_loans")
    with transaction.atomic():
        project = project_locked(project_id)
        if project.status != domain.PENDING_REVIEW or project.create_request_no:
            raise Conflict(_("Only a loan waiting for review can be approved."), code="bad_status")
        try:
            domain.check_terms(terms, amount=project.amount)
        except domain.RuleError as exc:
            raise rule_invalid(exc) from exc
        before = project_state(project)
        borrower_no = DepositoryAccount.objects.filter(user_id=project.borrower_id, status="OPEN").values_list(
            "user_no", flat=True).first()
        if borrower_no is None:
            raise Conflict(_("The borrower has no open depository account."), code="no_account")
        record = depository.request_create(service_name="CREATE_PROJECT", payload={
            "projectNo": project.project_no, "borrowerUserNo": borrower_no, "amount": project.amount,
            "annualRate": f"{terms.borrower_rate:.6f}", "periods": project.months,
            "repaymentMethod": project.method, "name": project.name[:100]}, owner=project, prefix="WXP")
        fields = {k: getattr(terms, k) for k in ("borrower_rate", "investor_rate", "service_fee_rate", "window_days",
                                                  "min_investment", "increment", "per_investor_cap")}
        Project.objects.filter(pk=project.pk).update(
            **fields, reviewed_by=operator, reviewed_at=timezone.now(), create_request_no=record.request_no,
            bank_error="")
        audit_record(actor=operator, action=AuditAction.LOAN_APPROVE, target=project, before=before,
                     after={**before, **{k: str(v) for k, v in fields.items()}, "request_no": record.request_no})
        depository.request_send_on_commit(record)
    project.refresh_from_db()
    return project


def project_reject(*, operator, project_id: int, reason: str) -> Project:
    operator_require(operator, "review_loans")
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 300:
        raise Invalid(_("Give the borrower a reason (at most 300 characters)."), code="reason")
    with transaction.atomic():
        project = project_locked(project_id)
        if project.create_request_no:
            raise Conflict(_("This loan was approved and is being registered at the bank."), code="bad_status")
        before = project_state(project)
        project_move(project, domain.REJECTED, review_reason=reason, reviewed_by=operator, reviewed_at=timezone.now())
        audit_record(actor=operator, action=AuditAction.LOAN_REJECT, target=project, before=before,
                     after={**project_state(project), "reason": reason})
        sms_on_commit(project.borrower.mobile, "loan_rejected",
                          f"Your loan application {project.project_no} was not approved: {reason}")
    return project
