"""The outbox sender (decision record 0007): requests written for it in business transactions
(``request_create(..., outbox=True)``) go to the bank as ``BATCH``es (PROTOCOL §5a).

One round (``send_round``):
1. **claim** up to ``DEPOSITORY_OUTBOX_BATCH`` waiting requests in one committed statement
   (``FOR UPDATE SKIP LOCKED``, then ``claimed_at`` set): two senders never take the same one,
   and a claim is the sender's until it lapses (``DEPOSITORY_OUTBOX_LEASE_SECONDS``) or the
   sender gives it back;
2. **send** them as one ``BATCH`` under a new batch requestNo (items keep their own numbers, so
   a batch sent again after a crash moves nothing again: each item replays its stored result),
   or as several when one envelope would pass the bank's size limit (``split``);
3. **apply** every answer in one transaction (``results_apply_batch``): the records settled as
   ``result_apply`` settles one, their owners' handlers through the dispatcher. Should that
   transaction fail (a deadlock, a handler's error), the answers are applied one by one, each
   in its own transaction, exactly as a single answer is;
4. **give back** what is still pending (no answer, or none that settles it): the sender no
   longer holds it, no sender sends it again before a backoff growing with its attempts
   (``retry_at``), and recovery may look it up at once, as any direct request sent without an
   answer (``services.outbox_release``). ``drain`` stops at a round the bank did not answer.

A sender killed after the bank's commit leaves its requests claimed and pending: once the claim
lapses the next sender sends them again (the bank answers with the stored results) or recovery
looks them up (``pending_recover``); either way each is applied once.

``drain`` runs rounds until nothing is left to claim; ``OutboxSender`` is a thread that drains
whenever a request is committed (``LISTEN``: the insert trigger of migration 0006 notifies on
commit), when a backoff ends, and at least every ``DEPOSITORY_OUTBOX_IDLE_SECONDS``.
``request_send_soon`` is the bids' hand-off: nothing more when served (the commit wakes a
sender), or sent in the caller's thread after commit (``send_now``, the test settings).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from wanxin.core.ids import new_request_no
from wanxin.protocol import codes, envelope
from wanxin.protocol.codes import ProtocolError

from .client import BankClient, BankUnavailable, get_client
from .models import DepositoryRequest
from .results import result_dispatch_many, result_repeated
from .services import outbox_release, request_send, result_apply

log = logging.getLogger("wanxin.depository.outbox")

CHANNEL = "wanxin_depository_outbox"
SOURCE = "batch"
_TABLE = DepositoryRequest._meta.db_table


# Waiting for a sender: never sent, or given back and its backoff over, or its claim lapsed.
_WAITING = ("status = 'PENDING' AND outbox AND ((claimed_at IS NULL AND (retry_at IS NULL OR retry_at <= now())) "
            "OR claimed_at < now() - make_interval(secs => %s))")


def claim(*, batch_no: str, limit: int | None = None, pks: list[int] | None = None) -> list[DepositoryRequest]:
    """Take up to ``limit`` waiting requests for ``batch_no``, oldest first, and commit the
    claim before anything is sent. ``pks``: only these, sent now by the thread that wrote them
    (``send_now``): held from senders for the lease like a claim, but open to recovery at once
    as a direct request sent by its own process is (``claimed_at`` stays empty)."""
    if connection.in_atomic_block:
        raise RuntimeError("claim inside a transaction: a claim must be committed before the send")
    limit = limit or settings.DEPOSITORY_OUTBOX_BATCH
    lease = settings.DEPOSITORY_OUTBOX_LEASE_SECONDS
    if pks is None:
        taken, only, params = "claimed_at = now()", "", [lease, limit, batch_no]
    else:
        taken = "claimed_at = NULL, retry_at = now() + make_interval(secs => %s)"
        only, params = "AND id = ANY(%s) ", [lease, list(pks), limit, lease, batch_no]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH picked AS (SELECT id FROM {_TABLE} WHERE {_WAITING} {only}"  # noqa: S608
            "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
            f"UPDATE {_TABLE} AS t SET {taken}, batch_no = %s, attempts = t.attempts + 1 "
            "FROM picked WHERE t.id = picked.id RETURNING t.id, t.request_no, t.service_name, t.payload",
            params)
        rows = cursor.fetchall()
    payload = DepositoryRequest._meta.get_field("payload")
    records = [DepositoryRequest(pk=pk, request_no=no, service_name=service, outbox=True, batch_no=batch_no,
                                 payload=payload.from_db_value(data, None, connection))
               for pk, no, service, data in rows]
    return sorted(records, key=lambda r: r.pk)


def send(records: list[DepositoryRequest], *, batch_no: str, client: BankClient) -> list[dict[str, Any]] | None:
    """The bank's answers to ``records`` sent as one BATCH (``[]`` when the bank refused the
    BATCH as a whole and each request went alone, its answer applied), or None when the bank
    did not answer (the requests are given back, sent again after a backoff or recovered)."""
    items = [(r.service_name, {"requestNo": r.request_no, **r.payload}) for r in records]
    try:
        return client.send_batch(batch_no, items)
    except BankUnavailable as exc:
        log.warning("BATCH %s of %s requests unanswered (%s); retried after a backoff or recovered",
                    batch_no, len(records), exc)
        return None
    except ProtocolError as exc:
        if exc.code not in codes.NOT_RECORDED and exc.code != codes.SYSTEM_ERROR:
            log.error("BATCH %s refused with %s %s; its requests are retried after a backoff or recovered",
                      batch_no, exc.code, exc)
            return None
        refusal = f"{exc.code} {exc}"
    # Refused as a whole, nothing recorded (PROTOCOL §5a), or rolled back by a system error (one
    # item the bank cannot execute would sink every BATCH it is in, each retry): each request
    # goes alone, as it would have without the outbox, and gets its own answer.
    log.error("BATCH %s refused as a whole (%s); sending its %s requests one by one", batch_no, refusal, len(records))
    unanswered = 0
    for record in records:
        try:
            sent = request_send(record=record, client=client)
        except Exception:
            log.exception("sending %s alone failed; recovery will look it up", record.request_no)
            continue
        unanswered = unanswered + 1 if not sent.is_final else 0
        if unanswered == _ALONE_UNANSWERED_LIMIT:  # not answering alone either: the rest waits
            log.warning("the bank answers none of BATCH %s's requests alone; the rest is given back", batch_no)
            break
    return []


_ALONE_UNANSWERED_LIMIT = 3


def results_apply_batch(results: list[dict[str, Any]], *, source: str = SOURCE) -> None:
    """Apply a BATCH's answers in one transaction; if that fails, one by one (``result_apply``)."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                _apply_all(results, source)
            return
        except DatabaseError as exc:
            # Two senders' handlers can meet on the same rows in opposite orders; PostgreSQL
            # aborts one of them. Once more, then one by one.
            log.warning("applying a batch of %s answers failed (attempt %s): %s", len(results), attempt, exc)
        except Exception:
            log.exception("applying a batch of %s answers failed; applying them one by one", len(results))
            break
    for resp in results:
        try:
            result_apply(resp_data=resp, source=source)
        except Exception:
            log.exception("applying the answer for %s failed; recovery will look it up", resp.get("requestNo"))


def _apply_all(results: list[dict[str, Any]], source: str) -> None:
    """Inside one transaction: every record locked at once (by id), those settled by their
    answer written in one UPDATE, then their handlers (``result_dispatch_many``)."""
    answers = {str(r.get("requestNo", "")): r for r in results}
    records = {r.request_no: r for r in
               DepositoryRequest.objects.select_for_update().filter(request_no__in=list(answers)).order_by("pk")}
    now = timezone.now()
    settled = []
    for request_no, resp in answers.items():
        record = records.get(request_no)
        if record is None:
            log.error("the bank answered %s, which is not ours; ignored", request_no)
            continue
        code = str(resp.get("respCode", ""))
        if record.is_final or code in codes.NOT_FINAL or code == codes.REQUEST_NO_REUSED:
            if record.is_final and code not in codes.NOT_FINAL and code != codes.REQUEST_NO_REUSED:
                result_repeated(record, code=code, resp_msg=str(resp.get("respMsg", "")), source=source)
            continue
        ok = code == codes.SUCCESS
        record.status = DepositoryRequest.Status.SUCCESS if ok else DepositoryRequest.Status.FAIL
        record.resp_code, record.resp_msg = code, str(resp.get("respMsg", ""))[:300]
        record.response, record.applied_from, record.finished_at, record.updated_at = resp, source, now, now
        settled.append(record)
    if not settled:
        return
    response = DepositoryRequest._meta.get_field("response")
    values = ", ".join(["(%s::bigint, %s, %s, %s, %s)"] * len(settled))
    params: list[Any] = [source, now, now]
    for r in settled:
        params += [r.pk, r.status, r.resp_code, r.resp_msg, response.get_db_prep_save(r.response, connection)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} AS t SET status = v.status, resp_code = v.code, resp_msg = v.msg, "  # noqa: S608
            "response = v.response, applied_from = %s, finished_at = %s, updated_at = %s "
            f"FROM (VALUES {values}) AS v(id, status, code, msg, response) WHERE t.id = v.id", params)
    result_dispatch_many(settled, source=source)


def send_round(*, client: BankClient | None = None, limit: int | None = None) -> tuple[int, int]:
    """Claim, send and apply one round: the claimed requests as one BATCH, or several when
    their envelope would pass the bank's size limit; returns how many it claimed (0: none)
    and how many of those the bank answered (0: it did not answer at all)."""
    batch_no = new_request_no("WXB")
    records = claim(batch_no=batch_no, limit=limit)
    return len(records), _send_claimed(records, batch_no=batch_no, client=client)


def _send_claimed(records: list[DepositoryRequest], *, batch_no: str, client: BankClient | None) -> int:
    """Send and apply ``records`` claimed for ``batch_no``, then give back what is still
    pending; returns how many the bank answered (0: it did not answer at all)."""
    if not records:
        return 0
    client = _patient(client or get_client())
    parts = split(records)
    answered = 0
    try:
        for n, part in enumerate(parts):
            results = send(part, batch_no=batch_no if len(parts) == 1 else f"{batch_no}-{n}", client=client)
            if results is not None:
                if results:
                    results_apply_batch(results)
                answered += len(part)
    finally:
        outbox_release([r.pk for r in records], batch_no=batch_no)
    return answered


def send_now(records: list[DepositoryRequest], *, client: BankClient | None = None) -> int:
    """Send committed outbox ``records`` from this thread as one BATCH and apply the answers
    (what a request the caller waits on needs); returns how many the bank answered. Those a
    sender has taken meanwhile are its own."""
    batch_no = new_request_no("WXB")
    try:
        return _send_claimed(claim(batch_no=batch_no, pks=[r.pk for r in records]), batch_no=batch_no, client=client)
    except Exception:
        log.exception("sending %s failed; retried after a backoff or recovered", [r.request_no for r in records])
        return 0


def sends_later() -> bool:
    """Whether ``request_send_soon`` leaves the send to the sender threads (served) rather than
    sending in the caller's thread after commit (``DEPOSITORY_SEND_IN_BACKGROUND`` off: tests)."""
    return bool(settings.DEPOSITORY_SEND_IN_BACKGROUND)


def request_send_soon(record: DepositoryRequest) -> None:
    """Call in the transaction that wrote ``record`` for the outbox (a bid's freeze). Served,
    nothing more: its commit wakes a sender, and the customer is answered with the object as
    committed ("confirming"). Otherwise it is sent in this thread once committed."""
    if not record.outbox:
        raise ValueError(f"{record.request_no} was not written for the outbox")
    if not sends_later():
        transaction.on_commit(lambda: send_now([record]))


# What an item may take of a BATCH envelope: reqData is base64 (4 bytes per 3) of the JSON, and
# the envelope adds its other fields and the signature.
_ITEMS_BUDGET = (envelope.MAX_BATCH_ENVELOPE_BYTES - 4096) * 3 // 4


def split(records: list[DepositoryRequest]) -> list[list[DepositoryRequest]]:
    """Consecutive runs of ``records`` whose BATCH each stays under the bank's envelope limit
    (``MAX_BATCH_ENVELOPE_BYTES``): 1,000 confirmations with their investors' details do not fit."""
    parts: list[list[DepositoryRequest]] = [[]]
    used = 0
    for record in records:
        item = {"serviceName": record.service_name, "data": {"requestNo": record.request_no, **record.payload}}
        size = len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode()) + 1
        if parts[-1] and used + size > _ITEMS_BUDGET:
            parts.append([])
            used = 0
        parts[-1].append(record)
        used += size
    return parts


def _patient(client: BankClient) -> BankClient:
    """The client with a timeout long enough for a whole BATCH (``DEPOSITORY_OUTBOX_SEND_TIMEOUT``)."""
    timeout = settings.DEPOSITORY_OUTBOX_SEND_TIMEOUT
    return client if client.timeout >= timeout else dataclasses.replace(client, timeout=timeout)


def drain(*, client: BankClient | None = None, limit: int | None = None) -> dict[str, int]:
    """Send rounds until nothing is left to claim (requests another sender holds are its own,
    those given back wait for their backoff) or the bank answers a round not at all; what the
    handlers enqueue meanwhile (a freeze's confirmation) goes in the next rounds."""
    client = client or get_client()
    batches = items = 0
    while True:
        claimed, answered = send_round(client=client, limit=limit)
        if not claimed:
            break
        batches, items = batches + 1, items + claimed
        if not answered:
            break  # the bank is away: the rest waits for the next wake-up
    return {"batches": batches, "items": items}


def next_retry() -> float | None:
    """Seconds until the first request given back may be sent again (None: none waits)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXTRACT(EPOCH FROM min(retry_at) - now()) FROM {_TABLE} "  # noqa: S608
                       "WHERE status = 'PENDING' AND outbox AND claimed_at IS NULL AND retry_at > now()")
        (seconds,) = cursor.fetchone()
    return None if seconds is None else max(0.0, float(seconds))


def flush(timeout: float = 60.0) -> bool:
    """Drain, then wait while other senders still hold requests; True once none is in flight
    (what the bank did not answer waits for its backoff), False after ``timeout``."""
    deadline = time.monotonic() + timeout
    lease = dt.timedelta(seconds=settings.DEPOSITORY_OUTBOX_LEASE_SECONDS)
    while True:
        drain()
        held = DepositoryRequest.objects.filter(status=DepositoryRequest.Status.PENDING, outbox=True).filter(
            Q(claimed_at__gt=timezone.now() - lease) | Q(claimed_at__isnull=True, retry_at__isnull=True))
        if not held.exists():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# -- waking up: LISTEN on a connection of its own ------------------------------------------------


@contextmanager
def listening(alias: str = "default") -> Iterator[psycopg.Connection]:
    """A connection of the sender's own that LISTENs on the outbox channel (outside Django's
    pool: it stays idle between notifications, so it must not be one of the pool's)."""
    params = connections[alias].get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield conn


def wait_for_work(conn: psycopg.Connection, *, timeout: float, stopping: threading.Event | None = None) -> bool:
    """Block until a NOTIFY (True) or ``timeout`` (False), in slices so ``stopping`` is seen."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if stopping is not None and stopping.is_set():
            return False
        for _ in conn.notifies(timeout=min(left, 1.0), stop_after=1):
            return True
    return False


class OutboxSender(threading.Thread):
    """Drains the outbox whenever work is committed; any number may run, in any processes."""

    def __init__(self, name: str = "outbox-sender", *, idle: float | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()
        self.idle = idle if idle is not None else settings.DEPOSITORY_OUTBOX_IDLE_SECONDS
        self.rounds = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with listening() as conn:
                    while not self.stopping.is_set():
                        # LISTEN is on before the drain: work committed meanwhile wakes the wait.
                        drain()
                        self.rounds += 1
                        retry = next_retry()  # a request given back is due then
                        close_old_connections()
                        wait_for_work(conn, timeout=self.idle if retry is None else min(self.idle, retry + 0.01),
                                      stopping=self.stopping)
            except Exception:
                log.exception("outbox sender %s failed; starting again in 5 s", self.name)
                self.stopping.wait(5)
            finally:
                connections.close_all()

    def stop(self) -> None:
        self.stopping.set()


def senders_start(count: int | None = None) -> list[OutboxSender]:
    """Start ``count`` (``DEPOSITORY_OUTBOX_SENDERS``) sender threads in this process."""
    count = settings.DEPOSITORY_OUTBOX_SENDERS if count is None else count
    senders = [OutboxSender(f"outbox-sender-{n}") for n in range(count)]
    for sender in senders:
        sender.start()
    return senders
