"""The bank's request pipeline: verify → validate → claim the requestNo → execute → sign.

PROTOCOL §3: a request that fails signature, timestamp or parameter checks is not
recorded. A recorded request is claimed by an INSERT under the unique constraint on
(platformNo, requestNo), so concurrent duplicates wait for the first and then replay
its stored response; nothing is ever done twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from wanxin.protocol import codes, envelope, messages, signing
from wanxin.protocol.codes import ProtocolError

from . import statements
from .ledger import InsufficientBalance, Posting, apply_shared
from .models import BankRequest, Notification
from .platforms import PlatformConfig, bank_private_key, get_platform

log = logging.getLogger("wanxin.bank")
DB = "bank"


class BusinessError(Exception):
    """A final refusal of a recorded request (codes 3xxxx)."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(message or codes.MESSAGES[code])
        self.code = code
        self.message = message or codes.MESSAGES[code]


class EnvelopeRejected(Exception):
    """HTTP 400: the envelope cannot be parsed or names an unknown platform."""


@dataclass
class Verified:
    platform: PlatformConfig
    service_name: str
    data: dict[str, Any]
    digest: str


def now_ms() -> int:
    return int(time.time() * 1000)


def verify(fields: Any, *, allowed: frozenset[str]) -> Verified:
    """All checks that happen before anything is recorded."""
    try:
        env = envelope.parse_envelope(fields)
    except ValueError as exc:
        raise EnvelopeRejected(str(exc)) from exc
    platform = get_platform(env.platform_no)
    if platform is None:
        raise EnvelopeRejected(f"unknown platformNo {env.platform_no!r}")
    limit = envelope.MAX_BATCH_ENVELOPE_BYTES if env.service_name == "BATCH" else envelope.MAX_ENVELOPE_BYTES
    if len(env.req_data) > limit:
        raise ProtocolError(codes.INVALID_PARAMS, "reqData is too large")
    if not signing.verify(platform.public_key, env.req_data, env.signature):
        raise ProtocolError(codes.BAD_SIGNATURE)
    data = envelope.decode_data(env.req_data)
    if env.service_name not in allowed:
        raise ProtocolError(codes.INVALID_PARAMS, f"service {env.service_name} is not offered here")
    cleaned = messages.validate_request(env.service_name, data, now_ms=now_ms())
    _precheck(env.service_name, cleaned)
    return Verified(platform, env.service_name, cleaned, envelope.digest(env.req_data))


def _precheck(service_name: str, data: dict[str, Any]) -> None:
    if service_name == "DOWNLOAD_STATEMENT":
        if dt.date.fromisoformat(data["date"]) >= timezone.localdate():
            raise ProtocolError(codes.INVALID_PARAMS, "statements exist only for closed business days")


def sign(data: dict[str, Any]) -> dict[str, str]:
    return envelope.sign_response(bank_private_key(), data)


def response_data(request_no: str, code: str, message: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "requestNo": request_no,
        "respCode": code,
        "respMsg": message or codes.MESSAGES.get(code, code),
        "status": codes.status_for(code),
        **fields,
    }


def refusal(fields: Any, error: ProtocolError) -> dict[str, Any]:
    """Response data for an unrecorded refusal, echoing requestNo where it can be read."""
    request_no = ""
    try:
        data = envelope.decode_data(fields.get("reqData", ""))
        if isinstance(data.get("requestNo"), str):
            request_no = data["requestNo"][:64]
    except (ProtocolError, AttributeError):
        pass
    return response_data(request_no, error.code, error.message)


# -- claiming requestNos ---------------------------------------------------------------------


# The savepoint a handler runs in (see run_handler); handlers never nest, so one fixed
# name will do. Not Django's savepoint API, so that claim() can open it in its own round trip.
HANDLER_SAVEPOINT = "SAVEPOINT bank_handler"


def claim(v: Verified) -> tuple[BankRequest, bool]:
    """Insert the request row or return the one already there (after its writer commits).

    The same query also opens the handler's savepoint: Django's psycopg cursors bind
    parameters client-side, so both statements go in one round trip (the INSERT's result
    comes first). A replayed request leaves the savepoint unused; COMMIT drops it."""
    with connections[DB].cursor() as cur:
        cur.execute(
            "INSERT INTO bank_bankrequest (platform_no, request_no, service_name, digest, req_data, "
            "status, resp_code, biz_type, user_no, counterparty, moved_money, created_at) "
            "VALUES (%s, %s, %s, %s, %s, 'PROCESSING', '', '', '', '', false, now()) "
            "ON CONFLICT (platform_no, request_no) DO NOTHING RETURNING id; " + HANDLER_SAVEPOINT,
            [v.platform.platform_no, v.data["requestNo"], v.service_name, v.digest, json.dumps(v.data)],
        )
        row = cur.fetchone()
    if row is not None:
        return BankRequest(
            pk=row[0],
            platform_no=v.platform.platform_no,
            request_no=v.data["requestNo"],
            service_name=v.service_name,
            digest=v.digest,
            req_data=v.data,
        ), True
    existing = BankRequest.objects.using(DB).get(
        platform_no=v.platform.platform_no, request_no=v.data["requestNo"]
    )
    return existing, False


def replay(existing: BankRequest, v: Verified) -> dict[str, Any]:
    if existing.digest != v.digest:
        return response_data(v.data["requestNo"], codes.REQUEST_NO_REUSED)
    if existing.status == BankRequest.Status.PROCESSING:
        return response_data(existing.request_no, codes.PROCESSING)
    return statements.full_response(existing, existing.response)


def finish(req: BankRequest, code: str, message: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """Store the final response; for gateway requests queue the notification too."""
    data = response_data(req.request_no, code, message, **fields)
    req.status = codes.status_for(code)
    req.resp_code = code
    req.response = statements.stored_form(req.service_name, data)
    req.finished_at = timezone.now()
    if code != codes.SUCCESS:
        req.moved_money = False
    # Fixed SQL, not save(update_fields=...): this runs once per request (see ledger.py).
    with connections[DB].cursor() as cur:
        cur.execute(
            "UPDATE bank_bankrequest SET status = %s, resp_code = %s, response = %s, finished_at = %s, "
            "biz_type = %s, user_no = %s, counterparty = %s, amount = %s, commission = %s, moved_money = %s "
            "WHERE id = %s",
            [req.status, code, json.dumps(req.response), req.finished_at, req.biz_type, req.user_no,
             req.counterparty, req.amount, req.commission, req.moved_money, req.pk],
        )
    if req.service_name in messages.GATEWAY_SERVICES:
        Notification.objects.using(DB).create(
            platform_no=req.platform_no,
            request_no=req.request_no,
            body=notification_body(req.platform_no, req.service_name, data),
            next_attempt_at=timezone.now(),
        )
    return data


def notification_body(platform_no: str, service_name: str, data: dict[str, Any]) -> dict[str, str]:
    """PROTOCOL §4a: the stored response plus the reported request's ``serviceName`` and
    ``notifiedAt``, signed over ``NOTIFY:`` + respData so that no response (the bank signs
    even refusals of requests it could not verify) can pass for a notification."""
    notified = {**data, "serviceName": service_name, "notifiedAt": now_ms()}
    return {"serviceName": "NOTIFY", "platformNo": platform_no,
            **envelope.sign_notification(bank_private_key(), notified)}


Handler = Callable[[BankRequest, dict[str, Any]], dict[str, Any]]


def run_handler(req: BankRequest, handler: Handler, data: dict[str, Any], *,
                savepoint_open: bool = False,
                shared: Callable[[BankRequest, list[Posting]], None] = apply_shared) -> dict[str, Any]:
    """Execute inside a savepoint: a business refusal undoes every partial effect.

    ``savepoint_open``: claim() has already opened it. The balances of shared accounts
    (platform accounts, the card network) are updated after the response is stored, as
    the last statements before COMMIT, so those hot rows stay locked for one statement
    and the COMMIT (lock order: ledger.py). An overdraft of a shared account is still a
    refusal that undoes everything. On success the savepoint is left for COMMIT to
    release: one round trip fewer. ``shared``: how the shared-account deltas are applied
    (a BATCH defers pure credits to just before its COMMIT, see batch.py)."""
    if not savepoint_open:
        _execute(HANDLER_SAVEPOINT)
    req.shared_postings = []  # Posting.apply() leaves its shared-account deltas here
    try:
        fields = handler(req, data)
        response = finish(req, codes.SUCCESS, None, fields)
        try:
            shared(req, req.shared_postings)
        except InsufficientBalance as exc:
            raise BusinessError(codes.INSUFFICIENT_BALANCE) from exc
    except BusinessError as exc:
        # (Bank handlers register no on_commit callbacks, which this would not discard.)
        _execute("ROLLBACK TO " + HANDLER_SAVEPOINT)
        req.moved_money = False
        return finish(req, exc.code, exc.message, {})
    finally:
        del req.shared_postings
    return response


def _execute(sql: str) -> None:
    with connections[DB].cursor() as cur:
        cur.execute(sql)


def execute_direct(v: Verified, handler: Handler) -> dict[str, Any]:
    try:
        with transaction.atomic(using=DB):
            req, created = claim(v)
            if not created:
                return replay(req, v)
            return run_handler(req, handler, v.data, savepoint_open=True)
    except Exception:
        # Nothing was recorded (the transaction rolled back): the platform may retry.
        log.exception("system error on %s %s", v.service_name, v.data.get("requestNo"))
        return response_data(v.data["requestNo"], codes.SYSTEM_ERROR)
