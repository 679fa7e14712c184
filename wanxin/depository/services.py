"""Platform side of the protocol (DESIGN §5).

1. ``request_create`` writes the record in the caller's transaction, beside the
   business change it belongs to.
2. ``request_send`` (direct) or the gateway hand-off page (browser) reaches the bank.
3. ``result_apply`` settles the record from any source (synchronous response,
   notification, query) exactly once, and runs the one handler its owner's app
   registered for that service (``results``) inside the same transaction.
4. ``pending_recover`` looks up whatever is still pending after a short delay.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.core.ids import new_request_no
from wanxin.protocol import codes, messages
from wanxin.protocol.codes import ProtocolError
from wanxin.rows import insert_many

from .client import BankClient, BankUnavailable, get_client
from .models import DepositoryRequest, IgnoredBankResult
from .results import owner_type_of, result_dispatch, result_repeated

log = logging.getLogger("wanxin.depository")

# A gateway envelope is reused while the bank will still accept its timestamp.
GATEWAY_REUSE = dt.timedelta(seconds=240)
# After this long unseen by the bank, a gateway envelope can never be accepted any more.
GATEWAY_DEAD_AFTER = dt.timedelta(seconds=600)
# What may go through the outbox: the direct money services a BATCH carries (PROTOCOL §5a).
OUTBOX_SERVICES = messages.BATCH_ITEM_SERVICES - {"QUERY_REQUEST", "QUERY_BALANCE"}


def request_create(*, service_name: str, payload: dict[str, Any], owner: models.Model | None = None,
                   user_no: str = "", amount: int | None = None, prefix: str = "WX",
                   request_no: str | None = None, outbox: bool = False) -> DepositoryRequest:
    """Record a request to be made; call inside the business change's transaction.

    ``owner``: the saved business object the request serves; its result is routed to the
    handler its app registered for (owner type, ``service_name``). None only for a request
    with no business effect of its own. ``request_no``: when the owner had to be created
    with the number first (``new_request_no``). ``outbox``: sent by the outbox sender in a
    BATCH once this transaction commits (decision record 0007; do not also call
    ``request_send_on_commit``); only the services a BATCH carries."""
    record = request_build(service_name=service_name, payload=payload, owner=owner, user_no=user_no,
                           amount=amount, prefix=prefix, request_no=request_no, outbox=outbox)
    record.save(force_insert=True)
    return record


def request_build(*, service_name: str, payload: dict[str, Any], owner: models.Model | None = None,
                  user_no: str = "", amount: int | None = None, prefix: str = "WX",
                  request_no: str | None = None, outbox: bool = False) -> DepositoryRequest:
    """An unsaved record, checked as ``request_create`` checks it: for ``requests_create``."""
    if service_name not in messages.SERVICE_FIELDS:
        raise ValueError(f"unknown service {service_name}")
    if outbox and service_name not in OUTBOX_SERVICES:
        raise ValueError(f"{service_name} cannot go through the outbox (not a BATCH item)")
    if owner is not None and owner.pk is None:
        raise ValueError("the owner of a bank request must be saved first")
    return DepositoryRequest(
        request_no=request_no or new_request_no(prefix), service_name=service_name, payload=payload,
        user_no=user_no, amount=amount, outbox=outbox, batch_no="",  # its db_default, without the costly DatabaseDefault()
        owner_type=owner_type_of(owner) if owner is not None else "", owner_id=owner.pk if owner is not None else None,
    )


def requests_create(records: list[DepositoryRequest]) -> list[DepositoryRequest]:
    """Insert records made by ``request_build`` in one statement (a set-based job's requests);
    call inside the business change's transaction."""
    return list(insert_many(records))


def request_send_on_commit(record: DepositoryRequest) -> None:
    """Send ``record`` once the caller's transaction commits (decision record 0002); a
    failure to send is logged and left to the recovery job, which looks the request up."""

    def send() -> None:
        try:
            request_send(record=record)
        except Exception:
            log.exception("sending %s failed; recovery will look it up", record.request_no)

    transaction.on_commit(send)


def refused_request(request_no: str) -> DepositoryRequest:
    """The record of a request the bank refused, before its owner asks again with a new
    request (a requestNo is never reused, PROTOCOL §3); anything else is refused."""
    record = DepositoryRequest.objects.filter(request_no=request_no).first()
    if record is None:
        raise NotFound(_("There is no bank request to retry."), code="not_found")
    if record.status != DepositoryRequest.Status.FAIL:
        raise Conflict(_("The bank has not refused %(request_no)s (it is %(status)s); nothing to retry.")
                       % {"request_no": request_no, "status": record.get_status_display()},
                       code="not_refused")
    return record


def request_send(*, record: DepositoryRequest, client: BankClient | None = None) -> DepositoryRequest:
    """Send a direct request and apply a final answer; a timeout leaves it pending.

    Must run after the record's transaction committed: otherwise the bank could move
    money for a record that is later rolled back (use ``transaction.on_commit``)."""
    if connection.in_atomic_block:
        raise RuntimeError("request_send inside a transaction: send after commit (transaction.on_commit)")
    client = client or get_client()
    # The attempt is counted in the transaction that applies the answer (one statement and
    # commit fewer per request), or on its own when there is no answer to apply.
    try:
        resp = client.send(record.service_name, {"requestNo": record.request_no, **record.payload})
    except BankUnavailable:
        log.warning("bank did not answer %s; recovery will look it up", record.request_no)
        _count_attempt(record.pk)
        record.refresh_from_db()
        return record
    except Exception:
        _count_attempt(record.pk)
        raise
    try:
        return result_apply(resp_data=resp, source="sync", count_attempt=True)
    except Exception:  # rolled back with the attempt it counted
        _count_attempt(record.pk)
        raise


def _count_attempt(pk: int) -> None:
    DepositoryRequest.objects.filter(pk=pk).update(attempts=F("attempts") + 1)


def outbox_release(pks: list[int], *, batch_no: str | None = None, claimed_at: dt.datetime | None = None) -> int:
    """Give back the outbox requests of ``pks`` still pending and still held by whoever sent
    them (the BATCH ``batch_no``, or recovery's take at ``claimed_at``): sent, outcome unknown.
    No sender sends one again before a backoff (``DEPOSITORY_OUTBOX_RETRY_SECONDS`` doubled
    with each attempt, at most ``DEPOSITORY_OUTBOX_RETRY_MAX_SECONDS``); recovery may look it
    up at once (decision record 0007). Returns how many were given back."""
    if not pks:
        return 0
    holder, value = ("batch_no = %s", batch_no) if batch_no is not None else ("claimed_at = %s", claimed_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DepositoryRequest._meta.db_table} SET claimed_at = NULL, retry_at = now() + "  # noqa: S608
            "make_interval(secs => LEAST(%s, %s * power(2, LEAST(GREATEST(attempts, 1), 30) - 1))) "
            f"WHERE id = ANY(%s) AND status = 'PENDING' AND outbox AND {holder}",
            [settings.DEPOSITORY_OUTBOX_RETRY_MAX_SECONDS, settings.DEPOSITORY_OUTBOX_RETRY_SECONDS, list(pks), value])
        return cursor.rowcount


def direct_call(*, service_name: str, payload: dict[str, Any], user_no: str = "", amount: int | None = None,
                client: BankClient | None = None) -> DepositoryRequest:
    """Record then send a direct request that has no business change of its own (queries)."""
    with transaction.atomic():
        record = request_create(service_name=service_name, payload=payload, user_no=user_no, amount=amount)
    return request_send(record=record, client=client)


# Answers to this platform's own sends: alone (``sync``) or as an item of a BATCH (``batch``).
OWN_ANSWERS = frozenset({"sync", "batch"})
_APPLIED_FIELDS = ["status", "resp_code", "resp_msg", "response", "applied_from", "finished_at", "updated_at"]


def result_ignore(*, resp_data: dict[str, Any], source: str, reason: str) -> None:
    """Log and count a bank-signed result we will not apply (PROTOCOL §4a)."""
    request_no = str(resp_data.get("requestNo", ""))[:64]
    code = str(resp_data.get("respCode", ""))[:8]
    log.warning("ignored a bank result via %s: %s %s for %r", source, reason, code, request_no)
    IgnoredBankResult.objects.create(request_no=request_no, source=source, reason=reason, resp_code=code,
                                     resp_msg=str(resp_data.get("respMsg", ""))[:300])


class ServiceMismatch(WanxinError):
    """A notification reports a request of another service than ours of that requestNo."""


def result_apply(*, resp_data: dict[str, Any], source: str, count_attempt: bool = False,
                 service_name: str | None = None) -> DepositoryRequest | None:
    """Settle a record from a bank answer. Idempotent by requestNo; later answers for a
    settled record change nothing. ``count_attempt``: the answer is to a send of this
    process (``request_send``), counted in ``attempts`` in this same transaction.

    A code the bank never records (``00003``–``00005``) is applied only from our own
    synchronous send: arriving by notification or query it cannot be about our request
    (anyone can get the bank to sign such a refusal for any requestNo), so it is logged,
    counted and ignored (returns None). ``service_name``: the service a notification says
    it reports; another than the record's is refused."""
    request_no = resp_data.get("requestNo", "")
    code = resp_data.get("respCode", "")
    if source not in OWN_ANSWERS and code in codes.NOT_RECORDED:
        result_ignore(resp_data=resp_data, source=source, reason=IgnoredBankResult.Reason.UNRECORDED_CODE)
        return None
    with transaction.atomic():
        record = DepositoryRequest.objects.select_for_update().filter(request_no=request_no).first()
        if record is None:
            raise NotFound(f"no depository request {request_no!r}")
        if service_name is not None and service_name != record.service_name:
            raise ServiceMismatch(f"{request_no} is a {record.service_name} request, not {service_name}",
                                  code="service_mismatch")
        if record.is_final or code in codes.NOT_FINAL or code == codes.REQUEST_NO_REUSED:
            if record.is_final and code not in codes.NOT_FINAL and code != codes.REQUEST_NO_REUSED:
                result_repeated(record, code=code, resp_msg=str(resp_data.get("respMsg", "")), source=source)
            if count_attempt:
                record.attempts += 1  # under the row lock
                DepositoryRequest.objects.filter(pk=record.pk).update(attempts=record.attempts)
            return record
        record.status = DepositoryRequest.Status.SUCCESS if code == codes.SUCCESS else DepositoryRequest.Status.FAIL
        record.resp_code = code
        record.resp_msg = str(resp_data.get("respMsg", ""))[:300]
        record.response = resp_data
        record.applied_from = source
        record.finished_at = timezone.now()
        fields = _APPLIED_FIELDS
        if count_attempt:
            record.attempts += 1  # under the row lock
            fields = [*fields, "attempts"]
        # Only the settled columns: the payload and gateway envelope are not re-encrypted.
        record.save(update_fields=fields)
        result_dispatch(record, source=source)
    return record


class AlreadyFinal(Exception):
    """The record is settled: no envelope may be signed for it any more."""

    def __init__(self, record: DepositoryRequest):
        super().__init__(f"{record.request_no} is already {record.status}")
        self.record = record


def gateway_envelope(*, record: DepositoryRequest, client: BankClient | None = None) -> dict[str, str]:
    """Fields of the auto-submitting form; the same signed bytes while still fresh."""
    if record.service_name not in messages.GATEWAY_SERVICES:
        raise ValueError(f"{record.service_name} is not a gateway service")
    client = client or get_client()
    now = timezone.now()
    with transaction.atomic():
        record = DepositoryRequest.objects.select_for_update().get(pk=record.pk)
        # Checked under the lock: recovery may have just expired it (see _recover_one).
        if record.is_final:
            raise AlreadyFinal(record)
        if not record.gateway_signed_at or now - record.gateway_signed_at > GATEWAY_REUSE:
            env = client.envelope(record.service_name, {"requestNo": record.request_no, **record.payload})
            record.gateway_req_data, record.gateway_signature = env.req_data, env.signature
            record.gateway_signed_at = now
            record.save(update_fields=["gateway_req_data", "gateway_signature", "gateway_signed_at", "updated_at"])
    return {
        "serviceName": record.service_name,
        "platformNo": client.platform_no,
        "reqData": record.gateway_req_data,
        "signature": record.gateway_signature,
    }


def pending_recover(*, older_than: dt.timedelta | None = None, limit: int = 200,
                    client: BankClient | None = None) -> dict[str, int]:
    """Look up every request still pending after ``older_than``; returns counts by outcome."""
    client = client or get_client()
    older_than = older_than if older_than is not None else dt.timedelta(seconds=settings.DEPOSITORY_RECOVERY_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    counts: dict[str, int] = defaultdict(int)
    # An outbox request is a sender's while it holds it (until its claim lapses); one never
    # sent is the senders' work; one sent without an answer (given back, or sent by the
    # thread that wrote it) is recovery's too, as any direct request (decision 0007).
    lapsed = timezone.now() - dt.timedelta(seconds=settings.DEPOSITORY_OUTBOX_LEASE_SECONDS)
    pending = list(
        DepositoryRequest.objects.filter(status=DepositoryRequest.Status.PENDING, created_at__lte=cutoff)
        .exclude(service_name="QUERY_REQUEST")
        .filter(Q(outbox=False) | Q(claimed_at__isnull=True, attempts__gt=0) | Q(claimed_at__lte=lapsed))
        .order_by("created_at")[:limit]
    )
    for record in pending:
        taken = _outbox_take(record, lapsed) if record.outbox else None
        if record.outbox and taken is None:
            counts["claimed"] += 1  # a sender took it meanwhile
            continue
        try:
            outcome = _recover_one(record, client)
        except Exception:
            # One bad record must not keep every later one from being recovered.
            log.exception("recovery of %s failed", record.request_no)
            outcome = "error"
        if taken is not None:
            outbox_release([record.pk], claimed_at=taken)  # still unknown: the senders retry it later
        counts[outcome] += 1
    return dict(counts)


def _outbox_take(record: DepositoryRequest, lapsed: dt.datetime) -> dt.datetime | None:
    """Take an outbox request sent without an answer, or whose sender's claim lapsed (it died
    or stalled), so no sender sends it while recovery looks it up; returns the claim's time."""
    now = timezone.now()
    took = (DepositoryRequest.objects.filter(pk=record.pk, status=DepositoryRequest.Status.PENDING)
            .filter(Q(claimed_at__isnull=True, attempts__gt=0) | Q(claimed_at__lte=lapsed))
            .update(claimed_at=now, batch_no=""))
    return now if took else None


def _recover_one(record: DepositoryRequest, client: BankClient) -> str:
    try:
        answer = client.send("QUERY_REQUEST", {"requestNo": new_request_no("Q"), "queryRequestNo": record.request_no})
    except BankUnavailable:
        return "unreachable"
    code = answer.get("respCode")
    if code == codes.SUCCESS:
        result = answer["result"]
        if result.get("respCode") in codes.NOT_FINAL:
            return "still-processing"
        if result_apply(resp_data=result, source="query", service_name=answer.get("serviceName")) is None:
            return "ignored"
        return "applied"
    if code != codes.QUERY_UNKNOWN:
        return "query-failed"
    # The bank never recorded it.
    if record.service_name in messages.GATEWAY_SERVICES:
        return _expire_gateway(record, seen_signed_at=record.gateway_signed_at)
    # A direct request lost before the bank recorded it: send it again, same requestNo.
    record.refresh_from_db()
    if record.is_final:
        return "applied"
    request_send(record=record, client=client)
    return "resent"


def _expire_gateway(record: DepositoryRequest, *, seen_signed_at: dt.datetime | None) -> str:
    """Fail a gateway request the bank never saw, once no envelope of it can be accepted.

    Decided under the row lock the hand-off page also takes: if the page signed a fresh
    envelope while the query was in flight, the customer may still take that one to the bank.
    """
    with transaction.atomic():
        locked = DepositoryRequest.objects.select_for_update().get(pk=record.pk)
        if locked.is_final:
            return "applied"
        last_signed = locked.gateway_signed_at or locked.created_at
        if locked.gateway_signed_at != seen_signed_at or timezone.now() - last_signed <= GATEWAY_DEAD_AFTER:
            return "waiting-for-customer"
        result_apply(
            resp_data={"requestNo": record.request_no, "respCode": codes.GATEWAY_ABANDONED,
                       "respMsg": "never reached the bank's page", "status": "FAIL"},
            source="query",
        )
    return "expired"


# -- reconciliation's calls (no request record: they move no money and a statement would
# make a record's encrypted response hundreds of megabytes) ------------------------------------


def statement_download(*, date: str, kind: str = "TRANSACTIONS", client: BankClient | None = None) -> dict[str, Any]:
    """The bank's signed answer to ``DOWNLOAD_STATEMENT`` (PROTOCOL §5, §6): ``file``
    (base64 CSV), ``rows``, ``sha256``; a refusal raises ``ProtocolError`` with its code."""
    client = client or get_client()
    answer = client.send("DOWNLOAD_STATEMENT", {"requestNo": new_request_no("S"), "date": date, "kind": kind})
    if answer.get("respCode") != codes.SUCCESS:
        raise ProtocolError(answer.get("respCode", codes.SYSTEM_ERROR), str(answer.get("respMsg", "")))
    return answer


def request_requery(*, request_no: str, client: BankClient | None = None) -> dict[str, Any]:
    """Ask the bank what became of ``request_no`` (``QUERY_REQUEST``) and, when the platform
    has a record of it and the answer is final, apply it through ``result_apply`` (a settled
    record stays as it is). Returns the bank's answer: ``respCode`` 30404 if it never saw it."""
    client = client or get_client()
    answer = client.send("QUERY_REQUEST", {"requestNo": new_request_no("Q"), "queryRequestNo": request_no})
    result = answer.get("result") or {}
    if (answer.get("respCode") == codes.SUCCESS and result.get("respCode") not in codes.NOT_FINAL
            and result.get("respCode") not in codes.NOT_RECORDED and result.get("respCode") != codes.REQUEST_NO_REUSED
            and DepositoryRequest.objects.filter(request_no=request_no).exists()):
        result_apply(resp_data=result, source="query")
    return answer
