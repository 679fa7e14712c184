"""Operator roles and the named permissions they grant (pure data, no Django): the one
place that says which role holds which permission. docs/roles.md is generated from it
(``python -m wanxin.backoffice.roles_doc``).

Every permission is ``backoffice.<codename>`` (held by the console's table-less
``backoffice.models.OperatorPermission``, whose content type the permission rows carry);
a role is a Django ``Group`` of the same name. The table lives in the foundation (``audit``)
so that the guards of every app read it without importing the console. To add a permission
or change a role: edit the tables below, regenerate docs/roles.md (``python -m wanxin.backoffice.roles_doc``),
run ``makemigrations backoffice`` (the permission list is frozen
into ``OperatorPermission``'s options) and add a migration that calls
``wanxin.backoffice.services.roles_sync(apps)``, as ``backoffice/0003_roles`` does.
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
    # Declared ahead of the features that will check them, so the duty rules below cover
    # them from the start.
    "settle_allocation": "Settle stock allocations (move the investors' money)",
    "close_reconciliation_day": "Close a reconciliation day with the bank",
}

# Permissions that move or approve money. The one place that says so: a role holding any
# of them is a money role; granting it waits for a second administrator, the role that
# manages operators never holds one, and the checker of a money action must be
# independent of its maker (``duties.checker_independence_require``).
MONEY_PERMISSIONS: frozenset[str] = frozenset({
    "approve_disbursement",
    "run_reconciliation",
    "settle_allocation",
    "close_reconciliation_day",
})
# Granting these takes effect only once a second administrator confirms: the money
# permissions, and managing operators itself (else one administrator could create a second
# one to confirm their own grants).
CONFIRMED_GRANT_PERMISSIONS: frozenset[str] = MONEY_PERMISSIONS | {"manage_operators"}

SUPER_ADMIN = "super admin"
LOAN_REVIEWER = "loan reviewer"
RISK_OFFICER = "risk officer"
FINANCE_OFFICER = "finance officer"
ALLOCATION_OPERATOR = "allocation operator"
CUSTOMER_SERVICE = "customer service"

ROLES: dict[str, frozenset[str]] = {
    # Manages people, not money: no money permission and no maker's one (review_loans,
    # review_allocations) either, so it can neither propose nor approve a payment.
    SUPER_ADMIN: frozenset({"manage_operators", "view_customers", "view_audit_log", "review_kyc",
                            "manage_risk_rules", "view_fund_statistics"}),
    LOAN_REVIEWER: frozenset({"review_kyc", "view_customers", "review_loans"}),
    RISK_OFFICER: frozenset({"manage_risk_rules", "view_customers", "view_audit_log"}),
    FINANCE_OFFICER: frozenset(
        {"approve_disbursement", "run_reconciliation", "settle_allocation", "close_reconciliation_day",
         "view_fund_statistics", "view_customers"}
    ),
    ALLOCATION_OPERATOR: frozenset({"review_allocations", "view_customers"}),
    CUSTOMER_SERVICE: frozenset({"view_customers"}),
}

# One demo operator per role (two super admins, so a grant can be proposed and confirmed):
# (username, role). All share DEMO_PASSWORD.
DEMO_OPERATORS: tuple[tuple[str, str], ...] = (
    ("superadmin", SUPER_ADMIN),
    ("superadmin2", SUPER_ADMIN),
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


def role_needs_confirmation(role: str) -> bool:
    """Granting ``role`` waits for a second administrator's confirmation."""
    return bool(ROLES[role] & CONFIRMED_GRANT_PERMISSIONS)


def duty_conflict(role_names) -> bool:
    """True when the roles together would let one operator both manage operators and move
    money (each must stay with different people)."""
    held = frozenset().union(*(ROLES[r] for r in role_names))
    return "manage_operators" in held and bool(held & MONEY_PERMISSIONS)


def roles_with(codename: str) -> list[str]:
    """The roles that carry the permission ``codename``."""
    return [name for name, codenames in ROLES.items() if codename in codenames]
