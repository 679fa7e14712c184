"""Pure rules of reconciliation (no Django): the files' shapes, which requests move money,
and what a request does to the platform's own accounts at the bank."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STATEMENT_HEADER = "requestNo,serviceName,bizType,userNo,counterparty,amount,commission,status,finishedAt"
BALANCE_HEADER = "userNo,available,frozen,asOf"

# Services whose successful requests are rows of the bank's statement (PROTOCOL §6).
MONEY_SERVICES = ("RECHARGE", "WITHDRAW", "USER_PRE_TRANSACTION", "CANCEL_PRE_TRANSACTION", "CONFIRM_LOAN",
                  "CONFIRM_REPAYMENT", "TRANSFER")
PLATFORM_INCOME = "PLATFORM_INCOME"
PLATFORM_CAPITAL = "PLATFORM_CAPITAL"
PLATFORM_ACCOUNTS = (PLATFORM_INCOME, PLATFORM_CAPITAL)
# Statement rows the bank writes for its own staff's operations (capital funding): no
# platform request exists for them; an officer explains them, and the platform's view of
# PLATFORM_CAPITAL counts the explained ones.
BANK_SIDE_SERVICES = ("STAFF_FUNDING",)

# The statement lists only requests the bank finished successfully (PROTOCOL §6).
STATEMENT_STATUSES = ("SUCCESS",)


class FileRefused(Exception):
    """The bank's file is not what it claims to be; nothing of it may be used."""


@dataclass(frozen=True)
class BankFile:
    content: bytes  # the CSV, header line included
    rows: int
    sha256: str


def verified_file(answer: Mapping[str, Any], *, header: str) -> BankFile:
    """Decode the file of a ``DOWNLOAD_STATEMENT`` answer and prove it whole: base64,
    sha256, header, line count. Row shapes are checked where the rows are loaded."""
    try:
        content = base64.b64decode(answer.get("file", ""), validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise FileRefused("the file is not valid base64") from exc
    digest = hashlib.sha256(content).hexdigest()
    if digest != answer.get("sha256"):
        raise FileRefused(f"sha256 mismatch: the bank said {answer.get('sha256')!r}, the file hashes to {digest}")
    first, _, body = content.partition(b"\n")
    if first.decode("utf-8", "replace") != header:
        raise FileRefused(f"unexpected header {first[:200].decode('utf-8', 'replace')!r}")
    if body and not body.endswith(b"\n"):
        raise FileRefused("the last row is cut off (no line end)")
    lines = body.count(b"\n")
    rows = answer.get("rows")
    if type(rows) is not int or rows != lines:
        raise FileRefused(f"the file has {lines} rows, the bank said {rows!r}")
    return BankFile(content=content, rows=lines, sha256=digest)


def platform_account_effects(service_name: str, payload: Mapping[str, Any]) -> dict[str, int]:
    """What a successful request did to PLATFORM_INCOME / PLATFORM_CAPITAL (available, fen),
    by the bank's rules in PROTOCOL §5: commissions go to income; a TRANSFER moves its
    amount between its payer and payee."""
    if service_name in ("WITHDRAW", "CONFIRM_LOAN"):
        return {PLATFORM_INCOME: int(payload.get("commission", 0))}
    if service_name == "CONFIRM_REPAYMENT":
        details = payload.get("details", [])
        return {PLATFORM_INCOME: int(payload.get("commission", 0)) + sum(int(d.get("commission", 0))
                                                                         for d in details)}
    if service_name == "TRANSFER":
        effects: dict[str, int] = {}
        amount = int(payload.get("amount", 0))
        if payload.get("payee") in PLATFORM_ACCOUNTS:
            effects[payload["payee"]] = effects.get(payload["payee"], 0) + amount
        if payload.get("payer") in PLATFORM_ACCOUNTS:
            effects[payload["payer"]] = effects.get(payload["payer"], 0) - amount
        return effects
    return {}


def day_refusal(day: dt.date, *, today: dt.date) -> str | None:
    """Why a day cannot be reconciled yet (the bank writes files only for closed days)."""
    if day >= today:
        return "the bank's files exist only for past business days"
    return None
