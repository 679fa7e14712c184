"""Response codes of PROTOCOL §7."""

from __future__ import annotations

SUCCESS = "00000"
SYSTEM_ERROR = "00001"
PROCESSING = "00002"
INVALID_PARAMS = "00003"
BAD_SIGNATURE = "00004"
BAD_TIMESTAMP = "00005"
REQUEST_NO_REUSED = "00006"
ACCOUNT_NOT_FOUND = "30001"
NOT_AUTHORISED = "30002"
WRONG_PASSWORD = "30003"
GATEWAY_ABANDONED = "30004"  # protocol addition: see docs/protocol.md §7
FREEZE_NOT_FOUND = "30010"
AMOUNTS_MISMATCH = "30011"
PROJECT_STATE = "30020"
INSUFFICIENT_BALANCE = "30042"
QUERY_UNKNOWN = "30404"

MESSAGES = {
    SUCCESS: "success",
    SYSTEM_ERROR: "system error, retry with the same requestNo",
    PROCESSING: "processing",
    INVALID_PARAMS: "invalid parameters",
    BAD_SIGNATURE: "bad signature or unknown key",
    BAD_TIMESTAMP: "timestamp outside the allowed window",
    REQUEST_NO_REUSED: "requestNo reused with different data",
    ACCOUNT_NOT_FOUND: "account not found or not open",
    NOT_AUTHORISED: "biz type not authorised by the customer",
    WRONG_PASSWORD: "wrong trade password",
    GATEWAY_ABANDONED: "cancelled by the customer or expired at the bank's page",
    FREEZE_NOT_FOUND: "pre-transaction not found, not frozen, or of another kind/project",
    AMOUNTS_MISMATCH: "amounts do not add up",
    PROJECT_STATE: "project not found or not in a state that allows this",
    INSUFFICIENT_BALANCE: "insufficient available balance",
    QUERY_UNKNOWN: "queried request unknown",
}

# Codes after which the outcome of a request is settled for ever.
NOT_FINAL = frozenset({SYSTEM_ERROR, PROCESSING})
# Codes for requests the bank refused before recording them: the same requestNo may be retried.
NOT_RECORDED = frozenset({INVALID_PARAMS, BAD_SIGNATURE, BAD_TIMESTAMP})


def status_for(code: str) -> str:
    if code == SUCCESS:
        return "SUCCESS"
    if code == PROCESSING:
        return "PROCESSING"
    return "FAIL"


class ProtocolError(Exception):
    """A refusal with a protocol response code."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(message or MESSAGES.get(code, code))
        self.code = code
        self.message = message or MESSAGES.get(code, code)
