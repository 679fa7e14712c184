"""Every action the audit log records: one enumeration, labels translated. ``audit_record``
refuses any other value. To record a new action, add a member here (its value is stored, so a
value never changes once used; no migration is needed: the column holds no choices)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    # back office: sessions, operators, role grants
    LOGIN = "auth.login", _("Logged in")
    LOGOUT = "auth.logout", _("Logged out")
    OPERATOR_CREATE = "operator.create", _("Operator created")
    OPERATOR_ROLES_SET = "operator.roles_set", _("Operator roles changed")
    OPERATOR_ACTIVATE = "operator.activate", _("Operator activated")
    OPERATOR_DEACTIVATE = "operator.deactivate", _("Operator deactivated")
    OPERATOR_PASSWORD_CHANGE = "operator.password_change", _("Password changed")
    GRANT_PROPOSE = "operator.grant_propose", _("Role grant proposed")
    GRANT_CONFIRM = "operator.grant_confirm", _("Role grant confirmed")
    GRANT_CANCEL = "operator.grant_cancel", _("Role grant cancelled")
    # kyc
    KYC_APPROVE = "kyc.approve", _("Qualifications approved")
    KYC_REJECT = "kyc.reject", _("Qualifications rejected")
    KYC_DOCUMENT_VIEW = "kyc.document_view", _("Document viewed")
    # lending and repayments
    LOAN_APPROVE = "loan.approve", _("Loan approved")
    LOAN_REJECT = "loan.reject", _("Loan rejected")
    LOAN_MISCARRY = "loan.miscarry", _("Loan cancelled")
    DISBURSEMENT_PROPOSE = "loan.disbursement_propose", _("Disbursement proposed")
    DISBURSEMENT_APPROVE = "loan.disbursement_approve", _("Disbursement approved")
    DISBURSEMENT_REJECT = "loan.disbursement_reject", _("Disbursement rejected")
    TENDER_RELEASE_RETRY = "tender.release_retry", _("Tender release sent again")
    REPAYMENT_RELEASE_RETRY = "repayment.release_retry", _("Repayment release sent again")
    # risk
    RISK_RULE_CREATE = "risk.rule.create", _("Risk rule created")
    RISK_RULE_CHANGE = "risk.rule.change", _("Risk rule changed")
    RISK_RULE_WITHDRAW = "risk.rule.withdraw", _("Risk rule withdrawn")
    RISK_RULE_EXPIRE = "risk.rule.expire", _("Risk rule ended")
    RISK_BLACKLIST_ADD = "risk.blacklist.add", _("Blacklist entry added")
    RISK_BLACKLIST_WITHDRAW = "risk.blacklist.withdraw", _("Blacklist entry withdrawn")
    RISK_BLACKLIST_EXPIRE = "risk.blacklist.expire", _("Blacklist entry ended")
    RISK_SCORE_SAVE = "risk.score.save", _("Score table row saved")
    RISK_SCORE_DELETE = "risk.score.delete", _("Score table row deleted")
    # reconciliation
    RECONCILIATION_RUN = "reconciliation.run", _("Day reconciled")
    RECONCILIATION_EXPLAIN = "reconciliation.explain", _("Difference explained")
    RECONCILIATION_REQUERY = "reconciliation.requery", _("Difference re-queried at the bank")
    RECONCILIATION_CLOSE_DAY = "reconciliation.close_day", _("Reconciliation day closed")
    # stock allocation
    ALLOCATION_CALL = "allocation.call", _("Allocation applicant called")
    ALLOCATION_APPROVE = "allocation.approve", _("Allocation approved")
    ALLOCATION_REJECT = "allocation.reject", _("Allocation rejected")
    ALLOCATION_STATUS = "allocation.status", _("Allocation status recorded")
    ALLOCATION_TOP_UP_APPROVE = "allocation.top_up_approve", _("Allocation top-up approved")
    ALLOCATION_INCREASE_APPROVE = "allocation.increase_approve", _("Allocation increase approved")
    ALLOCATION_PROFIT_WITHDRAWAL_APPROVE = "allocation.profit_withdrawal_approve", _("Profit withdrawal approved")
    ALLOCATION_EXTENSION_APPROVE = "allocation.extension_approve", _("Allocation extension approved")
    ALLOCATION_REQUEST_REJECT = "allocation.request_reject", _("Allocation request rejected")
    SETTLEMENT_PROPOSE = "allocation.settlement_propose", _("Settlement proposed")
    SETTLEMENT_APPROVE = "allocation.settlement_approve", _("Settlement approved")
    SETTLEMENT_RETRY = "allocation.settlement_retry", _("Settlement sent again")


def action_label(code: str) -> str:
    """The label of a stored action; a value no longer in the enumeration shows as stored."""
    try:
        return str(AuditAction(code).label)
    except ValueError:
        return code
