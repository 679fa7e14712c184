"""Roles and permissions as operators read them (roles.py stays pure data, no Django)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wanxin.audit import roles

PERMISSION_LABELS = {
    "review_kyc": _("Review customer KYC and qualifications"),
    "view_customers": _("View customer profiles"),
    "manage_operators": _("Create operators, assign roles, deactivate operators"),
    "review_loans": _("Review and publish loan projects"),
    "approve_disbursement": _("Approve loan disbursement"),
    "run_reconciliation": _("Run reconciliation with the bank"),
    "manage_risk_rules": _("Manage risk rules, limits and the blacklist"),
    "review_allocations": _("Review stock-allocation applications and deposits"),
    "view_fund_statistics": _("View platform fund statistics"),
    "view_audit_log": _("View the operator audit log"),
    "settle_allocation": _("Settle stock allocations (move the investors' money)"),
    "close_reconciliation_day": _("Close a reconciliation day with the bank"),
}
ROLE_LABELS = {
    roles.SUPER_ADMIN: _("Super admin"),
    roles.LOAN_REVIEWER: _("Loan reviewer"),
    roles.RISK_OFFICER: _("Risk officer"),
    roles.FINANCE_OFFICER: _("Finance officer"),
    roles.ALLOCATION_OPERATOR: _("Allocation operator"),
    roles.CUSTOMER_SERVICE: _("Customer service"),
}
assert set(PERMISSION_LABELS) == set(roles.PERMISSIONS) and set(ROLE_LABELS) == set(roles.ROLES)


def role_label(name: str) -> str:
    return str(ROLE_LABELS.get(name, name))


def role_choices() -> list[tuple[str, str]]:
    return [(name, ROLE_LABELS[name]) for name in roles.ROLES]
