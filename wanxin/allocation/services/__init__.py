"""Every write of allocation, by sub-area; the same names re-exported here."""

from .common import (
    PLATFORM_CAPITAL,
    PLATFORM_INCOME,
    Purpose,
    bank_request,
    customer_only,
    fee_issue,
    freeze_issue,
    locked,
    move,
    open_account,
    owned_locked,
    release_issue,
    require,
    send_after_commit,
)
from .paying import ApplicationInput, allocation_apply, risk_fund_make_up
from .review import (
    allocation_approve,
    allocation_reject,
    allocations_start,
    call_record,
    capital_available,
    committed_capital,
    sub_account_reveal,
)
from .status import ImportResult, status_record, statuses_import

__all__ = [
    "PLATFORM_CAPITAL",
    "PLATFORM_INCOME",
    "ApplicationInput",
    "ImportResult",
    "Purpose",
    "allocation_apply",
    "allocation_approve",
    "allocation_reject",
    "allocations_start",
    "bank_request",
    "call_record",
    "capital_available",
    "committed_capital",
    "customer_only",
    "fee_issue",
    "freeze_issue",
    "locked",
    "move",
    "open_account",
    "owned_locked",
    "release_issue",
    "require",
    "risk_fund_make_up",
    "send_after_commit",
    "status_record",
    "statuses_import",
    "sub_account_reveal",
]
