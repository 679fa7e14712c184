"""Sending after commit without keeping the customer waiting (a bid's freeze).

``request_send_on_commit`` sends in the request's own thread once its transaction commits, so
the customer's answer waits for the bank's round trip. ``request_send_soon`` hands the record,
once committed, to a small pool of sender threads of this process and returns at once: the
customer is answered with the object's state (``PENDING``, "confirming"), the page polls it,
and the answer is applied by ``result_apply`` as before (decision record 0002).

Nothing is lost if the process dies with records queued here: each is committed ``PENDING``,
and the recovery job looks it up and sends it again with the same requestNo. The outbox sender
(issue 14) is meant to take this path over with batched sends.

``DEPOSITORY_SEND_IN_BACKGROUND`` off (the test settings' default, so a test sees the bank's
answer right after the call), it is ``request_send_on_commit``.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connections, transaction

from . import services
from .models import DepositoryRequest

log = logging.getLogger("wanxin.depository")

_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid, pool): a forked worker starts its own
_in_flight: set[Future] = set()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(max(1, int(settings.DEPOSITORY_BACKGROUND_SENDERS)),
                                                     thread_name_prefix="wanxin-send"))
        return _pool[1]


def _send(record: DepositoryRequest) -> None:
    try:
        services.request_send(record=record)
    except Exception:
        log.exception("sending %s failed; recovery will look it up", record.request_no)
    finally:
        connections.close_all()  # this thread's connections (back to the pool when pooled)


def sends_later() -> bool:
    """Whether ``request_send_soon`` hands off to sender threads (else: sends after commit)."""
    return bool(settings.DEPOSITORY_SEND_IN_BACKGROUND)


def request_send_soon(record: DepositoryRequest) -> None:
    """Send ``record`` from a sender thread once the caller's transaction commits."""
    if not sends_later():
        services.request_send_on_commit(record)
        return

    def hand_off() -> None:
        try:
            future = _executor().submit(_send, record)
        except RuntimeError:  # the interpreter is shutting down: the record stays pending
            log.warning("not sending %s now (shutting down); recovery will look it up", record.request_no)
            return
        with _lock:
            _in_flight.add(future)
        future.add_done_callback(_forget)

    transaction.on_commit(hand_off)


def _forget(future: Future) -> None:
    with _lock:
        _in_flight.discard(future)


def drain(timeout: float = 60.0) -> bool:
    """Wait until every send handed off so far is done (tests, shutdown); False on timeout."""
    with _lock:
        running = set(_in_flight)
    _done, not_done = wait(running, timeout=timeout)
    return not not_done
