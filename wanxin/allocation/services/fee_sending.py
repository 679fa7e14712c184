"""How the fee run's transfers reach the bank: as ``BATCH``es (PROTOCOL §5a) of up to
``ALLOCATION_FEE_BATCH`` items (at most 1,000), one signature and one round trip each, and
each batch's answers applied in one transaction (``results.fee_results_apply``).

``transfers_send`` is the one function to switch when the depository's outbox sender takes
waiting requests itself: the requests are recorded by the fee run's transaction either way,
and their results go through the same handlers.

A batch the bank does not answer leaves its requests pending: the next run sends them again
(``pending_transfers``; each item is idempotent by its own requestNo, so a repeat returns
the stored result), and the depository's recovery job looks them up meanwhile."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.db import connection
from django.db.models import F

from wanxin.core.ids import new_request_no
from wanxin.depository.client import BankClient, BankUnavailable, get_client
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol.codes import ProtocolError

from .. import results
from ..models import BankRequest, FeeCharge
from .fee_plan import BANK_REQUEST, Transfer

log = logging.getLogger("wanxin.allocation")
BATCH_MAX = 1000  # PROTOCOL §5a


def batch_size() -> int:
    return max(1, min(int(settings.ALLOCATION_FEE_BATCH), BATCH_MAX))


def batch_client() -> BankClient:
    """The bank client with a batch's longer wait for its answer (a timeout is resent with
    the same bytes, which the bank answers from the stored batch, but costs a round)."""
    client = get_client()
    return dataclasses.replace(client, timeout=max(client.timeout, settings.ALLOCATION_FEE_BATCH_TIMEOUT))


def transfers_send(transfers: list[Transfer], *, client: BankClient | None = None) -> int:
    """Send ``transfers`` (committed) in batches and apply each batch's answers; returns how
    many were answered with a final result."""
    if connection.in_atomic_block:
        raise RuntimeError("fee transfers are sent after their transaction commits")
    client = client or batch_client()
    size, applied = batch_size(), 0
    for first in range(0, len(transfers), size):
        batch = transfers[first:first + size]
        answers = batch_send(batch, client=client)
        if answers is not None:
            applied += results.fee_results_apply(answers)
    return applied


def batch_send(batch: list[Transfer], *, client: BankClient) -> list[dict] | None:
    """One BATCH; its items' answers, or None (logged, attempts counted) when the bank gave
    none or refused the batch as a whole (then nothing of it was recorded)."""
    items = [("TRANSFER", {"requestNo": t.request_no, **t.payload}) for t in batch]
    try:
        return client.send_batch(new_request_no("WXAB"), items)
    except (BankUnavailable, ProtocolError) as exc:
        log.warning("a batch of %s fee transfers got no answer (%s); they stay pending", len(batch), exc)
        DepositoryRequest.objects.filter(request_no__in=[t.request_no for t in batch]).update(
            attempts=F("attempts") + 1)
        return None


def pending_transfers(*, created_before: dt.datetime) -> list[Transfer]:
    """The fee run's transfers still waiting for the bank from an earlier run (one killed
    between its commit and the bank's answer, or one the bank did not answer): found from
    the pending depository requests (indexed by status), their owners and the owners'
    allocations' fee charges."""
    waiting = list(DepositoryRequest.objects.filter(
        status=DepositoryRequest.Status.PENDING, created_at__lt=created_before, owner_type=BANK_REQUEST,
        service_name="TRANSFER").order_by("pk").values_list("request_no", "payload", "owner_id"))
    if not waiting:
        return []
    allocations = set(BankRequest.objects.filter(pk__in=[owner for *_, owner in waiting],
                                                 purpose=BankRequest.Purpose.FEE).values_list("allocation_id", flat=True))
    charged = set(FeeCharge.objects.filter(allocation_id__in=allocations, status=FeeCharge.Status.PENDING,
                                           request_no__in=[no for no, *_ in waiting])
                  .values_list("request_no", flat=True))
    return [Transfer(no, payload) for no, payload, _owner in waiting if no in charged]
