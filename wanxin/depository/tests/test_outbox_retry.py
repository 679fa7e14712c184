"""The outbox when the bank does not answer (decision record 0007 §4): the sender gives its
requests back instead of holding them for the lease, so ``drain`` ends, recovery may look them
up at once (QUERY_REQUEST, then the same requestNo sent again), and a sender sends them again
once their backoff, growing with their attempts, is over."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pytest
from django.db.models import Max, Min
from django.utils import timezone

from wanxin.depository import outbox, services
from wanxin.depository.client import get_client
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import codes
from wanxin.protocol.codes import ProtocolError

from .conftest import FUNDED, ForwardThen, balance, freezes_of, queries_about
from .test_outbox import assert_books_sound, batches_at_bank, freezes, settled

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def dead_bank():
    """A client to a bank nobody answers for (connection refused), without its own retries."""
    return dataclasses.replace(get_client(), base_url="http://127.0.0.1:9/bank", retries=0)


def rows(records: list[DepositoryRequest]) -> list[DepositoryRequest]:
    return list(DepositoryRequest.objects.filter(pk__in=[r.pk for r in records]).order_by("pk"))


def test_a_dead_bank_ends_the_drain_and_recovery_sends_again_at_once(customer, handled, settings):
    counter = handled("USER_PRE_TRANSACTION")
    settings.DEPOSITORY_OUTBOX_RETRY_SECONDS = 30  # longer than the test
    records = freezes(customer, 1_000, 2_000, 3_000)
    # One round, unanswered: the drain stops there, the third request not even claimed.
    started = time.monotonic()
    assert outbox.drain(client=dead_bank(), limit=2) == {"batches": 1, "items": 2}
    assert time.monotonic() - started < 10
    tried, untried = rows(records)[:2], rows(records)[2]
    # Given back (no longer the sender's), not to be sent again before the backoff.
    assert all(r.claimed_at is None and r.attempts == 1 and r.retry_at > timezone.now() for r in tried)
    assert (untried.attempts, untried.claimed_at, untried.retry_at) == (0, None, None)
    assert outbox.drain(limit=2) == {"batches": 1, "items": 1}  # only the one never tried is due
    # Recovery takes the two at once: the bank never saw them (30404), so each is sent again
    # with its own requestNo and settled by that answer.
    assert services.pending_recover(older_than=dt.timedelta(0)) == {"resent": 2}
    assert [(r.status, r.applied_from, r.attempts) for r in rows(tried)] == [("SUCCESS", "sync", 2)] * 2
    assert [len(queries_about(r.request_no)) for r in records] == [1, 1, 0]
    assert [freezes_of(r.request_no) for r in records] == [1, 1, 1]
    assert outbox.drain() == {"batches": 0, "items": 0}
    assert services.pending_recover(older_than=dt.timedelta(0)) == {}
    assert balance(customer) == (FUNDED - 6_000, 6_000) and len(counter.seen) == 3
    assert_books_sound()


def test_a_lost_answer_is_applied_by_recovery_at_once_once(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    records = freezes(customer, 4_000, 5_000)
    lost = dataclasses.replace(get_client(transport=ForwardThen(lose={1: "timeout"})), retries=0)
    assert outbox.drain(client=lost) == {"batches": 1, "items": 2}  # the bank committed them
    assert balance(customer) == (FUNDED - 9_000, 9_000)
    assert services.pending_recover(older_than=dt.timedelta(0)) == {"applied": 2}
    assert settled(records) == [("SUCCESS", codes.SUCCESS, "query")] * 2
    assert outbox.drain() == {"batches": 0, "items": 0}
    assert balance(customer) == (FUNDED - 9_000, 9_000) and len(counter.seen) == 2
    assert_books_sound()


def test_a_sender_sends_again_after_the_backoff(customer, handled, settings):
    counter = handled("USER_PRE_TRANSACTION")
    settings.DEPOSITORY_OUTBOX_RETRY_SECONDS = 0.5
    records = freezes(customer, 6_000, 7_000)
    assert outbox.drain(client=dead_bank()) == {"batches": 1, "items": 2}
    assert 0 < outbox.next_retry() <= 0.5
    assert outbox.drain() == {"batches": 0, "items": 0}  # not before the backoff
    # A sender that no NOTIFY wakes (nothing new is committed, idle far away): its backoff does.
    sender = outbox.OutboxSender(idle=120)
    sender.start()
    try:
        deadline = time.monotonic() + 20
        while settled(records)[0][0] == "PENDING" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sender.stop()
        sender.join(10)
    assert settled(records) == [("SUCCESS", codes.SUCCESS, "batch")] * 2
    assert [r.attempts for r in rows(records)] == [2, 2]
    assert len(batches_at_bank()) == 1  # the dead bank's try never reached it
    assert outbox.next_retry() is None
    assert balance(customer) == (FUNDED - 13_000, 13_000) and len(counter.seen) == 2
    assert_books_sound()


def test_the_backoff_grows_with_the_attempts_up_to_its_maximum(customer, settings):
    settings.DEPOSITORY_OUTBOX_RETRY_SECONDS, settings.DEPOSITORY_OUTBOX_RETRY_MAX_SECONDS = 10, 45
    records = freezes(customer, 1_000, 2_000, 3_000)
    for record, attempts in zip(records, (0, 1, 5), strict=True):  # tried before: 1, 2 and 6 with this one
        DepositoryRequest.objects.filter(pk=record.pk).update(attempts=attempts)
    before = timezone.now()
    assert outbox.drain(client=dead_bank()) == {"batches": 1, "items": 3}
    waits = [(r.retry_at - before).total_seconds() for r in rows(records)]
    assert 10 <= waits[0] < 12 and 20 <= waits[1] < 22 and 45 <= waits[2] < 47, waits
    spread = DepositoryRequest.objects.filter(pk__in=[r.pk for r in records]).aggregate(a=Min("retry_at"), b=Max("retry_at"))
    assert spread["a"] < spread["b"]


def test_only_the_holder_gives_a_request_back(customer):
    [record] = freezes(customer, 8_000)
    assert [r.pk for r in outbox.claim(batch_no="WXB-mine")] == [record.pk]
    assert services.outbox_release([record.pk], batch_no="WXB-other") == 0
    # Recovery took it after the claim lapsed: the sender that claimed it no longer holds it.
    DepositoryRequest.objects.filter(pk=record.pk).update(batch_no="", claimed_at=timezone.now())
    assert services.outbox_release([record.pk], batch_no="WXB-mine") == 0
    assert rows([record])[0].claimed_at is not None
    assert outbox.claim(batch_no="WXB-again") == []  # still held: by recovery now


def test_a_batch_the_bank_rolled_back_goes_alone_and_the_drain_goes_on(customer, handled, monkeypatch):
    """A BATCH answered 00001 as a whole (the bank's transaction failed on one item it could not
    execute) is not given back to fail again with the same item: each request goes alone and
    gets its own answer, and the drain carries on with the next round."""
    counter = handled("USER_PRE_TRANSACTION")
    records = freezes(customer, 1_000, 2_000, 3_000)
    real = type(get_client()).send_batch
    rolled_back: list[str] = []

    def first_rolled_back(self, batch_no, items):
        if not rolled_back:
            rolled_back.append(batch_no)
            raise ProtocolError(codes.SYSTEM_ERROR, "simulated: the batch's transaction failed")
        return real(self, batch_no, items)

    monkeypatch.setattr(type(get_client()), "send_batch", first_rolled_back)
    assert outbox.drain(limit=2) == {"batches": 2, "items": 3}  # not stopped by the refusal
    assert [(r.status, r.applied_from) for r in rows(records)] == [
        ("SUCCESS", "sync"), ("SUCCESS", "sync"), ("SUCCESS", "batch")]
    assert balance(customer) == (FUNDED - 6_000, 6_000) and len(counter.seen) == 3
    assert outbox.drain() == {"batches": 0, "items": 0}
    assert_books_sound()
