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
)
from .fees import FeeRun, arrears_add, fees_charge
from .paying import ApplicationInput, allocation_apply, risk_fund_make_up
from .requests import extension_apply, request_apply, request_approve, request_for, request_reject
from .review import (
    allocation_approve,
    allocation_reject,
    allocations_start,
    call_record,
    capital_available,
    committed_capital,
    sub_account_reveal,
)
from .settlement import (
    settlement_approve,
    settlement_progress,
    settlement_propose,
    settlement_reject,
    termination_apply,
)
from .status import ImportResult, status_record, statuses_import

__all__ = [
    "PLATFORM_CAPITAL",
    "PLATFORM_INCOME",
    "ApplicationInput",
    "FeeRun",
    "ImportResult",
    "Purpose",
    "allocation_apply",
    "allocation_approve",
    "allocation_reject",
    "allocations_start",
    "arrears_add",
    "bank_request",
    "call_record",
    "capital_available",
    "committed_capital",
    "customer_only",
    "extension_apply",
    "fee_issue",
    "fees_charge",
    "freeze_issue",
    "locked",
    "move",
    "open_account",
    "owned_locked",
    "release_issue",
    "request_apply",
    "request_approve",
    "request_for",
    "request_reject",
    "require",
    "risk_fund_make_up",
    "settlement_approve",
    "settlement_progress",
    "settlement_propose",
    "settlement_reject",
    "status_record",
    "statuses_import",
    "sub_account_reveal",
    "termination_apply",
]
