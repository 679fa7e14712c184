"""The outbox sender (decision record 0007) against the real bank over HTTP: each item of a
BATCH gets the result it would have had alone, a batch sent twice or again after a crash moves
nothing again, two senders never send one request twice, and a NOTIFY wakes a sender."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import Counter as Tally

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wanxin.bank import invariants
from wanxin.bank.models import BankRequest
from wanxin.depository import outbox, services
from wanxin.depository.client import get_client
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import codes
from wanxin.testing import at_once

from .conftest import FUNDED, ForwardThen, balance, bank_requests, freeze_payload, freezes_of

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def enqueue(*payloads: tuple[str, dict]) -> list[DepositoryRequest]:
    """Requests written for the outbox in one committed business transaction."""
    with transaction.atomic():
        return [services.request_create(service_name=service, payload=payload, outbox=True,
                                        user_no=payload.get("userNo", ""), amount=payload.get("amount"))
                for service, payload in payloads]


def freezes(user_no: str, *amounts: int) -> list[DepositoryRequest]:
    return enqueue(*(("USER_PRE_TRANSACTION", freeze_payload(user_no, amount)) for amount in amounts))


def settled(records: list[DepositoryRequest]) -> list[tuple[str, str, str]]:
    fresh = {r.pk: r for r in DepositoryRequest.objects.filter(pk__in=[r.pk for r in records])}
    return [(fresh[r.pk].status, fresh[r.pk].resp_code, fresh[r.pk].applied_from) for r in records]


def batches_at_bank() -> list[BankRequest]:
    return list(BankRequest.objects.using("bank").filter(service_name="BATCH").order_by("id"))


def items_sent() -> Tally:
    """How many times each requestNo reached the bank inside a BATCH."""
    return Tally(item["data"]["requestNo"] for batch in batches_at_bank() for item in batch.req_data["items"])


def lapse(records: list[DepositoryRequest]) -> None:
    """Move the records' claims past the lease (what a restarted sender sees later)."""
    lapsed = timezone.now() - dt.timedelta(seconds=settings.DEPOSITORY_OUTBOX_LEASE_SECONDS + 1)
    DepositoryRequest.objects.filter(pk__in=[r.pk for r in records]).update(claimed_at=lapsed, created_at=lapsed)


def assert_books_sound() -> None:
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []


def test_each_item_of_a_batch_gets_the_result_it_would_have_had_alone(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    # An earlier request the bank already executed in a BATCH whose answer was lost: sent again
    # in the next batch it is a repeat, replays that stored answer and moves nothing again.
    [earlier] = freezes(customer, 50_000)
    lost = dataclasses.replace(get_client(transport=ForwardThen(lose={1: "timeout"})), retries=0)
    assert outbox.drain(client=lost) == {"batches": 1, "items": 1}
    assert balance(customer) == (FUNDED - 50_000, 50_000)
    lapse([earlier])
    ok, too_much, unknown = enqueue(
        ("USER_PRE_TRANSACTION", freeze_payload(customer, 30_000)),
        ("USER_PRE_TRANSACTION", freeze_payload(customer, FUNDED)),  # more than is left: 30042
        ("USER_PRE_TRANSACTION", freeze_payload("nobody-here", 1_000)),  # no such account: 30001
    )
    transfer = enqueue(("TRANSFER", {"bizType": "ALLOCATION_FEE", "payer": customer, "payee": "PLATFORM_INCOME",
                                     "amount": 4_000, "preRequestNo": ok.request_no}))[0]

    assert outbox.drain() == {"batches": 1, "items": 5}
    first, batch = batches_at_bank()
    assert [i["data"]["requestNo"] for i in batch.req_data["items"]] == [
        r.request_no for r in (earlier, ok, too_much, unknown, transfer)]
    assert settled([earlier, ok, too_much, unknown, transfer]) == [
        ("SUCCESS", codes.SUCCESS, "batch"), ("SUCCESS", codes.SUCCESS, "batch"),
        ("FAIL", codes.INSUFFICIENT_BALANCE, "batch"), ("FAIL", codes.ACCOUNT_NOT_FOUND, "batch"),
        ("SUCCESS", codes.SUCCESS, "batch")]
    # Each record holds exactly the answer the bank stored for that request on its own.
    for record in (earlier, ok, too_much, unknown, transfer):
        record.refresh_from_db()
        [at_bank] = bank_requests(record.request_no)
        assert record.response == at_bank.response, record.request_no
    earlier.refresh_from_db()
    assert earlier.response == first.response["results"][0]  # replayed, not done again
    assert freezes_of(earlier.request_no) == freezes_of(ok.request_no) == 1
    assert balance(customer) == (FUNDED - 80_000, 80_000 - 4_000)
    assert sorted(no for no, *_ in counter.seen) == sorted(r.request_no for r in (earlier, ok, too_much, unknown))
    assert_books_sound()


def test_a_request_the_bank_got_alone_is_settled_by_recovery_not_by_its_batch(customer, handled):
    """A BATCH item is compared with what the bank recorded as an item (PROTOCOL §5a); the same
    requestNo once sent alone is 00006 there: it stays pending and recovery's QUERY_REQUEST
    applies the bank's answer, once."""
    counter = handled("USER_PRE_TRANSACTION")
    [record] = freezes(customer, 7_000)
    alone = get_client().send("USER_PRE_TRANSACTION", {"requestNo": record.request_no, **record.payload})
    assert outbox.drain() == {"batches": 1, "items": 1}
    assert settled([record]) == [("PENDING", "", "")]
    lapse([record])
    assert services.pending_recover(older_than=dt.timedelta(0)) == {"applied": 1}
    record.refresh_from_db()
    assert (record.status, record.response, record.applied_from) == ("SUCCESS", alone, "query")
    assert outbox.drain() == {"batches": 0, "items": 0}
    assert balance(customer) == (FUNDED - 7_000, 7_000) and len(counter.seen) == 1
    assert_books_sound()


def test_a_batch_sent_twice_moves_nothing_again(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    records = freezes(customer, 10_000, 20_000, 30_000)
    # The bank commits the batch but its answer is lost; the client sends the very same bytes again.
    edge = ForwardThen(lose={1: "timeout"})
    client = dataclasses.replace(get_client(transport=edge), retries=1, retry_delay=0)
    assert outbox.drain(client=client) == {"batches": 1, "items": 3}
    assert len(edge.bodies) == 2 and edge.bodies[0] == edge.bodies[1]
    assert len(batches_at_bank()) == 1
    assert settled(records) == [("SUCCESS", codes.SUCCESS, "batch")] * 3
    assert balance(customer) == (FUNDED - 60_000, 60_000)
    assert all(freezes_of(r.request_no) == 1 for r in records)
    assert len(counter.seen) == 3
    assert outbox.drain() == {"batches": 0, "items": 0}
    assert_books_sound()


def test_a_sender_killed_after_the_bank_committed_applies_everything_once(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    answered = freezes(customer, 11_000, 12_000)
    # The sender sent the batch and died before applying it: the bank committed, the records
    # stay pending and claimed by the dead sender.
    claimed = outbox.claim(batch_no="WXB-sent")
    assert [r.pk for r in claimed] == [r.pk for r in answered]
    get_client().send_batch("WXB-sent", [(r.service_name, {"requestNo": r.request_no, **r.payload}) for r in claimed])
    assert balance(customer) == (FUNDED - 23_000, 23_000)
    # Another one died after claiming, before sending anything.
    unsent = freezes(customer, 13_000)
    assert [r.request_no for r in outbox.claim(batch_no="WXB-dead")] == [unsent[0].request_no]
    assert settled(answered + unsent) == [("PENDING", "", "")] * 3
    # Restarted at once: the claims are still the dead senders' and neither sender nor
    # recovery touches them.
    assert outbox.drain() == {"batches": 0, "items": 0}
    assert services.pending_recover(older_than=dt.timedelta(0)) == {}

    # After the lease the next sender sends them again under a new batch number: the items the
    # bank has replay their stored answers; each is applied once and nothing moves twice.
    lapse(answered + unsent)
    assert outbox.drain() == {"batches": 1, "items": 3}
    assert len(batches_at_bank()) == 2
    assert settled(answered + unsent) == [("SUCCESS", codes.SUCCESS, "batch")] * 3
    assert balance(customer) == (FUNDED - 36_000, 36_000)
    assert all(freezes_of(r.request_no) == 1 for r in answered + unsent)
    assert sorted(no for no, *_ in counter.seen) == sorted(r.request_no for r in answered + unsent)
    assert_books_sound()


def test_recovery_applies_what_a_dead_sender_left_once(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    records = freezes(customer, 21_000, 22_000)
    lost = dataclasses.replace(get_client(transport=ForwardThen(lose={1: "timeout"})), retries=0)
    assert outbox.drain(client=lost) == {"batches": 1, "items": 2}
    lapse(records)
    assert services.pending_recover(older_than=dt.timedelta(0)) == {"applied": 2}
    assert settled(records) == [("SUCCESS", codes.SUCCESS, "query")] * 2
    assert outbox.drain() == {"batches": 0, "items": 0}
    assert balance(customer) == (FUNDED - 43_000, 43_000)
    assert len(counter.seen) == 2
    assert_books_sound()


def test_two_senders_at_once_never_send_a_request_twice(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    records = freezes(customer, *[1_000 + n for n in range(40)])
    # Four senders race over batches of five: every request goes in exactly one BATCH.
    outcomes = at_once(lambda: outbox.drain(limit=5), 4)
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert sum(o["items"] for o in outcomes) == 40 and sum(o["batches"] for o in outcomes) == 8
    assert items_sent() == Tally({r.request_no: 1 for r in records})
    assert set(DepositoryRequest.objects.filter(pk__in=[r.pk for r in records]).values_list("attempts", flat=True)) == {1}
    assert settled(records) == [("SUCCESS", codes.SUCCESS, "batch")] * 40
    total = sum(1_000 + n for n in range(40))
    assert balance(customer) == (FUNDED - total, total)
    assert Tally(no for no, *_ in counter.seen) == Tally({r.request_no: 1 for r in records})
    assert_books_sound()


def test_a_committed_request_wakes_a_waiting_sender(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    sender = outbox.OutboxSender(idle=120)  # far longer than the test waits: only NOTIFY wakes it
    sender.start()
    try:
        deadline = time.monotonic() + 30
        while sender.rounds < 1 and time.monotonic() < deadline:  # its first drain found nothing
            time.sleep(0.05)
        # A rolled-back transaction notifies nobody and sends nothing.
        with pytest.raises(RuntimeError), transaction.atomic():
            freezes(customer, 5_000)
            raise RuntimeError("the business change failed")
        [record] = freezes(customer, 6_000)
        started = time.monotonic()
        while settled([record])[0][0] == "PENDING" and time.monotonic() - started < 15:
            time.sleep(0.05)
        assert settled([record]) == [("SUCCESS", codes.SUCCESS, "batch")]
        assert time.monotonic() - started < 15
    finally:
        sender.stop()
        sender.join(10)
    assert not sender.is_alive()
    assert DepositoryRequest.objects.filter(outbox=True).count() == 1
    assert balance(customer) == (FUNDED - 6_000, 6_000) and len(counter.seen) == 1
    assert_books_sound()


def test_only_batch_services_go_through_the_outbox():
    with pytest.raises(ValueError, match="outbox"), transaction.atomic():
        services.request_create(service_name="RECHARGE", payload={}, outbox=True)
    assert not DepositoryRequest.objects.exists()


def test_a_round_too_big_for_one_envelope_goes_as_several_batches(customer, handled, monkeypatch):
    counter = handled("USER_PRE_TRANSACTION")
    records = freezes(customer, *range(1_001, 1_008))
    # An item here is ~167 bytes: room for three per envelope (the real limit, ~370 KB of items,
    # is passed by 1,000 repayment confirmations, not by 1,000 freezes).
    monkeypatch.setattr(outbox, "_ITEMS_BUDGET", 600)
    assert [len(part) for part in outbox.split(records)] == [3, 3, 1]
    assert outbox.drain() == {"batches": 1, "items": 7}
    batches = batches_at_bank()
    assert [len(b.req_data["items"]) for b in batches] == [3, 3, 1]
    assert len({b.request_no for b in batches}) == 3
    assert items_sent() == Tally({r.request_no: 1 for r in records})
    assert settled(records) == [("SUCCESS", codes.SUCCESS, "batch")] * 7 and len(counter.seen) == 7
    assert balance(customer) == (FUNDED - sum(range(1_001, 1_008)), sum(range(1_001, 1_008)))
    assert_books_sound()
