"""Service catalogue and request-field validation (PROTOCOL §2, §5).

Validation is pure: it returns a cleaned copy of the request data or raises
``ProtocolError(00003)`` naming the first bad field, so a caller can fix it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from wanxin.core.money import MAX_AMOUNT_FEN

from . import codes
from .codes import ProtocolError

REQUEST_NO_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TIMESTAMP_WINDOW_MS = 300_000
MAX_DETAILS = 5000

PLATFORM_INCOME = "PLATFORM_INCOME"
PLATFORM_CAPITAL = "PLATFORM_CAPITAL"
PLATFORM_ACCOUNTS = frozenset({PLATFORM_INCOME, PLATFORM_CAPITAL})

ROLES = ("INVESTOR", "BORROWER", "BOTH")
PRE_TRANSACTION_BIZ = ("TENDER", "REPAYMENT", "ALLOCATION")
TRANSFER_BIZ = ("ALLOCATION_FEE", "ALLOCATION_SETTLE", "COMPENSATION")
AUTH_TYPES = ("TENDER", "REPAYMENT", "ALLOCATION", "ALLOCATION_FEE", "ALLOCATION_SETTLE", "COMPENSATION")
PROJECT_STATUSES = ("COLLECTING", "FULL", "REPAYING", "FINISHED", "MISCARRIED")
STATEMENT_KINDS = ("TRANSACTIONS", "BALANCES")
REPAYMENT_METHODS = ("EQUAL_INSTALLMENT", "EQUAL_PRINCIPAL", "INTEREST_FIRST", "BULLET")

GATEWAY_SERVICES = frozenset({"PERSONAL_REGISTER", "RECHARGE", "WITHDRAW", "AUTHORIZE"})
DIRECT_SERVICES = frozenset(
    {
        "CREATE_PROJECT",
        "MODIFY_PROJECT",
        "USER_PRE_TRANSACTION",
        "CANCEL_PRE_TRANSACTION",
        "CONFIRM_LOAN",
        "CONFIRM_REPAYMENT",
        "TRANSFER",
        "QUERY_REQUEST",
        "QUERY_BALANCE",
        "DOWNLOAD_STATEMENT",
        "BATCH",
    }
)
# §5a: the services a BATCH may carry (not BATCH itself, nor the slow or one-off ones).
BATCH_ITEM_SERVICES = frozenset(
    {
        "USER_PRE_TRANSACTION",
        "CANCEL_PRE_TRANSACTION",
        "CONFIRM_LOAN",
        "CONFIRM_REPAYMENT",
        "TRANSFER",
        "MODIFY_PROJECT",
        "QUERY_REQUEST",
        "QUERY_BALANCE",
    }
)
MAX_BATCH_ITEMS = 1000

Checker = Callable[[Any], Any]


# -- field checkers: return the clean value or raise ValueError(reason) ---------------------


def _str(min_len: int = 1, max_len: int = 64, pattern: re.Pattern[str] | None = None) -> Checker:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if not min_len <= len(value) <= max_len:
            raise ValueError(f"must be {min_len}–{max_len} characters")
        if pattern is not None and not pattern.fullmatch(value):
            raise ValueError("has characters that are not allowed")
        return value

    return check


def _amount(*, allow_zero: bool = False) -> Checker:
    def check(value: Any) -> int:
        if type(value) is not int:  # bool, float and strings are refused
            raise ValueError("must be an integer number of fen")
        if value < 0 or (value == 0 and not allow_zero):
            raise ValueError("must be positive" if not allow_zero else "must not be negative")
        if value > MAX_AMOUNT_FEN:
            raise ValueError("is too large")
        return value

    return check


def _int_range(low: int, high: int) -> Checker:
    def check(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"must be an integer from {low} to {high}")
        return value

    return check


def _choice(options: tuple[str, ...]) -> Checker:
    def check(value: Any) -> str:
        if value not in options or not isinstance(value, str):
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return check


def _rate(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,3}(\.\d{1,6})?", value):
        raise ValueError('must be a decimal string such as "0.150000"')
    try:
        rate = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - regex already guards
        raise ValueError("is not a decimal") from exc
    if rate > 1:
        raise ValueError("must not exceed 1 (100%)")
    return f"{rate:.6f}"


def _date(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be YYYY-MM-DD")
    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("is not a real date") from exc
    return value


def _url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 500 or not re.match(r"^https?://[^\s]+$", value):
        raise ValueError("must be an http(s) URL of at most 500 characters")
    return value


def _auth_list(*, allow_empty: bool) -> Checker:
    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or (not value and not allow_empty):
            raise ValueError("must be a non-empty list" if not allow_empty else "must be a list")
        for item in value:
            if item not in AUTH_TYPES or not isinstance(item, str):
                raise ValueError(f"has an unknown biz type; allowed: {', '.join(AUTH_TYPES)}")
        if len(set(value)) != len(value):
            raise ValueError("has duplicates")
        return sorted(value)

    return check


def _account_ref(value: Any) -> str:
    """A customer userNo or one of the platform accounts."""
    return _str(pattern=REQUEST_NO_RE)(value)


def _details(spec: dict[str, tuple[Checker, bool]], unique: str | None) -> Checker:
    def check(value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not value:
            raise ValueError("must be a non-empty list")
        if len(value) > MAX_DETAILS:
            raise ValueError(f"must have at most {MAX_DETAILS} items")
        cleaned = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise ValueError(f"item {index} must be an object")
            try:
                cleaned.append(_clean(item, spec))
            except ValueError as exc:
                raise ValueError(f"item {index}: {exc}") from exc
        if unique and len({item[unique] for item in cleaned}) != len(cleaned):
            raise ValueError(f"repeats a {unique}")
        return cleaned

    return check


def _batch_items(value: Any) -> list[dict[str, Any]]:
    """The batch's shape (§5a): 1–1,000 objects ``{serviceName, data}`` naming a service a
    batch may carry, no requestNo twice. Each item's own fields are checked later, on
    their own (``validate_item``): a bad item gets its own 00003, not the batch."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_BATCH_ITEMS:
        raise ValueError(f"must be a list of 1 to {MAX_BATCH_ITEMS} items")
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"serviceName", "data"}:
            raise ValueError(f"item {index} must be an object with exactly serviceName and data")
        service = item["serviceName"]
        if service == "BATCH":
            raise ValueError(f"item {index}: a BATCH cannot contain a BATCH")
        if not isinstance(service, str) or service not in BATCH_ITEM_SERVICES:
            raise ValueError(f"item {index}: serviceName must be one of {', '.join(sorted(BATCH_ITEM_SERVICES))}")
        if not isinstance(item["data"], dict):
            raise ValueError(f"item {index}: data must be an object")
        request_no = item["data"].get("requestNo")
        if isinstance(request_no, str):
            if request_no in seen:
                raise ValueError(f"item {index}: requestNo {request_no[:64]} appears twice in the batch")
            seen.add(request_no)
    return value


_ID = _str(pattern=REQUEST_NO_RE)
_CALLBACK = (_url, True)

SERVICE_FIELDS: dict[str, dict[str, tuple[Checker, bool]]] = {
    "PERSONAL_REGISTER": {
        "userNo": (_ID, True),
        "fullName": (_str(1, 50), True),
        "idNumber": (_str(15, 18, re.compile(r"\d{15}|\d{17}[\dX]")), True),
        "mobile": (_str(11, 11, re.compile(r"1\d{10}")), True),
        "role": (_choice(ROLES), True),
        "bankCode": (_str(2, 10, re.compile(r"[A-Z]+")), True),
        "cardNumber": (_str(12, 19, re.compile(r"\d+")), True),
        "authList": (_auth_list(allow_empty=True), True),
        "callbackUrl": _CALLBACK,
    },
    "RECHARGE": {"userNo": (_ID, True), "amount": (_amount(), True), "callbackUrl": _CALLBACK},
    "WITHDRAW": {
        "userNo": (_ID, True),
        "amount": (_amount(), True),
        "commission": (_amount(allow_zero=True), True),
        "callbackUrl": _CALLBACK,
    },
    "AUTHORIZE": {
        "userNo": (_ID, True),
        "authList": (_auth_list(allow_empty=False), True),
        "callbackUrl": _CALLBACK,
    },
    "CREATE_PROJECT": {
        "projectNo": (_ID, True),
        "borrowerUserNo": (_ID, True),
        "amount": (_amount(), True),
        "annualRate": (_rate, True),
        "periods": (_int_range(1, 360), True),
        "repaymentMethod": (_choice(REPAYMENT_METHODS), True),
        "name": (_str(1, 100), True),
    },
    "MODIFY_PROJECT": {"projectNo": (_ID, True), "status": (_choice(PROJECT_STATUSES), True)},
    "USER_PRE_TRANSACTION": {
        "userNo": (_ID, True),
        "bizType": (_choice(PRE_TRANSACTION_BIZ), True),
        "amount": (_amount(), True),
        "projectNo": (_ID, False),
        "remark": (_str(0, 200), False),
    },
    "CANCEL_PRE_TRANSACTION": {"preRequestNo": (_ID, True)},
    "CONFIRM_LOAN": {
        "projectNo": (_ID, True),
        "commission": (_amount(allow_zero=True), True),
        "details": (
            _details({"preRequestNo": (_ID, True), "amount": (_amount(), True)}, "preRequestNo"),
            True,
        ),
    },
    "CONFIRM_REPAYMENT": {
        "preRequestNo": (_ID, True),
        "projectNo": (_ID, True),
        "commission": (_amount(allow_zero=True), True),
        "details": (
            _details(
                {
                    "userNo": (_ID, True),
                    "principal": (_amount(allow_zero=True), True),
                    "interest": (_amount(allow_zero=True), True),
                    "commission": (_amount(allow_zero=True), True),
                },
                None,
            ),
            True,
        ),
    },
    "TRANSFER": {
        "bizType": (_choice(TRANSFER_BIZ), True),
        "payer": (_account_ref, True),
        "payee": (_account_ref, True),
        "amount": (_amount(), True),
        "preRequestNo": (_ID, False),
    },
    "QUERY_REQUEST": {"queryRequestNo": (_ID, True)},
    "QUERY_BALANCE": {"userNo": (_account_ref, True)},
    "DOWNLOAD_STATEMENT": {"date": (_date, True), "kind": (_choice(STATEMENT_KINDS), False)},
    "BATCH": {"items": (_batch_items, True)},
}

COMMON_FIELDS: dict[str, tuple[Checker, bool]] = {
    "requestNo": (_str(pattern=REQUEST_NO_RE), True),
    "timestamp": (_int_range(0, 10**14), True),
}


def _clean(data: dict[str, Any], spec: dict[str, tuple[Checker, bool]]) -> dict[str, Any]:
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]}")
    cleaned: dict[str, Any] = {}
    for name, (checker, required) in spec.items():
        if name not in data or data[name] is None:
            if required:
                raise ValueError(f"{name} is required")
            continue
        try:
            cleaned[name] = checker(data[name])
        except ValueError as exc:
            raise ValueError(f"{name} {exc}") from exc
    return cleaned


def validate_request(service_name: str, data: dict[str, Any], *, now_ms: int) -> dict[str, Any]:
    """Check the common fields, the timestamp window and the service's own fields."""
    if service_name not in SERVICE_FIELDS:
        raise ProtocolError(codes.INVALID_PARAMS, f"unknown serviceName {service_name!r}")
    spec = {**COMMON_FIELDS, **SERVICE_FIELDS[service_name]}
    # The timestamp is judged first only when it is well-formed, so a stale but otherwise
    # fine request gets 00005 rather than a parameter error.
    timestamp = data.get("timestamp")
    if type(timestamp) is int and abs(now_ms - timestamp) > TIMESTAMP_WINDOW_MS:
        raise ProtocolError(codes.BAD_TIMESTAMP, "timestamp is more than 300 s from the bank's clock")
    try:
        cleaned = _clean(data, spec)
    except ValueError as exc:
        raise ProtocolError(codes.INVALID_PARAMS, str(exc)) from exc
    _check_cross_field(service_name, cleaned)
    return cleaned


def validate_item(service_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """One item of a BATCH (§5a): its service's fields and its own ``requestNo``; no
    ``timestamp`` (the batch's applies). The batch's shape was checked already."""
    spec = {"requestNo": COMMON_FIELDS["requestNo"], **SERVICE_FIELDS[service_name]}
    try:
        cleaned = _clean(data, spec)
    except ValueError as exc:
        raise ProtocolError(codes.INVALID_PARAMS, str(exc)) from exc
    _check_cross_field(service_name, cleaned)
    return cleaned


def _check_cross_field(service_name: str, data: dict[str, Any]) -> None:
    def refuse(message: str) -> None:
        raise ProtocolError(codes.INVALID_PARAMS, message)

    if service_name == "WITHDRAW" and data["commission"] >= data["amount"]:
        refuse("commission must be less than amount")
    if service_name == "USER_PRE_TRANSACTION":
        if data["bizType"] in ("TENDER", "REPAYMENT") and "projectNo" not in data:
            refuse(f"projectNo is required for {data['bizType']}")
    if service_name == "TRANSFER":
        if data["payer"] == data["payee"]:
            refuse("payer and payee must differ")
        if data["payer"] not in PLATFORM_ACCOUNTS and data["payee"] not in PLATFORM_ACCOUNTS:
            refuse("one side of a TRANSFER must be a platform account")
        if "preRequestNo" in data and data["payer"] in PLATFORM_ACCOUNTS:
            refuse("preRequestNo needs a customer payer")
    if service_name == "BATCH":
        if any(item["data"].get("requestNo") == data["requestNo"] for item in data["items"]):
            refuse("an item cannot have the batch's own requestNo")
    if service_name == "CONFIRM_REPAYMENT":
        for index, item in enumerate(data["details"]):
            if item["commission"] > item["principal"] + item["interest"]:
                refuse(f"details item {index}: commission exceeds principal + interest")
