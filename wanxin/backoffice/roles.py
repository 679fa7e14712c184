"""Operator roles and the named permissions they grant (pure data, no Django).

Every permission is ``backoffice.<codename>`` (held by ``models.OperatorPermission``);
a role is a Django ``Group`` of the same name. To add a permission or change a role:
edit the tables below, run ``makemigrations backoffice`` (the permission list is frozen
into ``OperatorPermission``'s options) and add a migration that calls
``services.roles_sync(apps)``, as ``0003_roles`` does.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "review_kyc": "Review customer KYC and qualifications",
    "view_customers": "View customer profiles",
    "manage_operators": "Create operators, assign roles, deactivate operators",
    "review_loans": "Review and publish loan projects",
    "approve_disbursement": "Approve loan disbursement",
    "run_reconciliation": "Run reconciliation with the bank",
    "manage_risk_rules": "Manage risk rules, limits and the blacklist",
    "review_allocations": "Review stock-allocation applications and deposits",
    "view_fund_statistics": "View platform fund statistics",
    "view_audit_log": "View the operator audit log",
}

SUPER_ADMIN = "super admin"
LOAN_REVIEWER = "loan reviewer"
RISK_OFFICER = "risk officer"
FINANCE_OFFICER = "finance officer"
ALLOCATION_OPERATOR = "allocation operator"
CUSTOMER_SERVICE = "customer service"

ROLES: dict[str, frozenset[str]] = {
    SUPER_ADMIN: frozenset(PERMISSIONS),
    LOAN_REVIEWER: frozenset({"review_kyc", "view_customers", "review_loans"}),
    RISK_OFFICER: frozenset({"manage_risk_rules", "view_customers", "view_audit_log"}),
    FINANCE_OFFICER: frozenset(
        {"approve_disbursement", "run_reconciliation", "view_fund_statistics", "view_customers"}
    ),
    ALLOCATION_OPERATOR: frozenset({"review_allocations", "view_customers"}),
    CUSTOMER_SERVICE: frozenset({"view_customers"}),
}

# One demo operator per role: (username, role). All share DEMO_PASSWORD.
DEMO_OPERATORS: tuple[tuple[str, str], ...] = (
    ("superadmin", SUPER_ADMIN),
    ("reviewer", LOAN_REVIEWER),
    ("risk", RISK_OFFICER),
    ("finance", FINANCE_OFFICER),
    ("allocation", ALLOCATION_OPERATOR),
    ("service", CUSTOMER_SERVICE),
)
DEMO_PASSWORD = "wanxin-demo-2026"


def perm(codename: str) -> str:
    """The full permission label, e.g. ``perm("review_kyc") == "backoffice.review_kyc"``."""
    if codename not in PERMISSIONS:
        raise KeyError(codename)
    return f"backoffice.{codename}"
