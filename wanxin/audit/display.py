"""The audit log as people read it: actions, objects and fields by name, money in yuan, rates
in percent, statuses by label. The rows keep the raw JSON (codes, fen, fractions)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from wanxin.audit import actions
from wanxin.core.money import format_fen

TARGET_LABELS = {
    "accounts.user": _("User"),
    "lending.project": _("Loan"),
    "lending.tender": _("Tender"),
    "lending.disbursement": _("Disbursement"),
    "repayments.repayment": _("Repayment"),
    "kyc.kycapplication": _("Qualifications"),
    "kyc.kycdocument": _("Document"),
    "backoffice.rolegrant": _("Role grant"),
    "risk.riskrule": _("Risk rule"),
    "risk.blacklistentry": _("Blacklist entry"),
    "risk.scoreband": _("Score band"),
    "reconciliation.reconciliationday": _("Reconciliation day"),
    "reconciliation.difference": _("Reconciliation difference"),
    "allocation.allocation": _("Allocation"),
}
FIELD_LABELS = {
    "status": _("Status"), "amount": _("Amount"), "raised": _("Raised"), "reason": _("Reason"),
    "borrower_rate": _("Borrower rate"), "investor_rate": _("Investor rate"), "service_fee_rate": _("Service fee"),
    "window_days": _("Fundraising window (days)"), "min_investment": _("Minimum investment"),
    "increment": _("Increment"), "per_investor_cap": _("Per-investor cap"), "request_no": _("Bank request"),
    "cancel_request_no": _("Bank release request"), "project": _("Loan"), "commission": _("Service fee"),
    "rating": _("Rating"), "credit_limit": _("Borrowing limit"), "username": _("User name"),
    "is_active": _("Active"), "roles": _("Roles"), "application": _("Application"), "kind": _("Kind"),
}
STATUS_LABELS = {
    "DRAFT": _("Draft"), "PENDING_REVIEW": _("Pending Review"), "REJECTED": _("Rejected"),
    "COLLECTING": _("Collecting"), "FULL": _("Full"), "MISCARRIED": _("Miscarried"), "REPAYING": _("Repaying"),
    "FINISHED": _("Finished"), "PROPOSED": _("Proposed"), "SENT": _("Approved, at the bank"), "DONE": _("Done"),
    "FAILED": _("Failed"), "CANCELLED": _("Cancelled"), "APPROVED": _("Approved"), "SUBMITTED": _("Submitted"),
    "IN_REVIEW": _("In review"),
}
FEN_FIELDS = {"amount", "raised", "min_investment", "increment", "per_investor_cap", "commission", "credit_limit",
              "frozen_amount", "total", "principal", "interest", "penalty", "fee"}
RATE_FIELDS = {"borrower_rate", "investor_rate", "service_fee_rate"}


def action_label(code: str) -> str:
    return actions.action_label(code)


def target_label(code: str) -> str:
    return str(TARGET_LABELS.get(code, code))


def _value(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    try:
        if key in FEN_FIELDS:
            return format_fen(int(value))
        if key in RATE_FIELDS:
            percent = (Decimal(str(value)) * 100).quantize(Decimal("0.0001")).normalize()
            return f"{percent:f}%"
    except (ValueError, InvalidOperation):
        return str(value)
    if key == "status":
        return str(STATUS_LABELS.get(str(value), value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def readable(state: dict | None) -> list[tuple[str, str]]:
    """(label, value) pairs of a before/after state, in its own order."""
    if not state:
        return []
    return [(str(FIELD_LABELS.get(key, key)), _value(key, value)) for key, value in state.items()]
