"""Recovery of requests the platform has not seen finish: crashes, timeouts, abandoned gateways."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
import pytest

from wanxin.bank import gateway, outbox
from wanxin.bank.models import BankRequest
from wanxin.bank.tests.helpers import TRADE_PASSWORD
from wanxin.depository import services
from wanxin.depository.client import get_client
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import codes, envelope

from .conftest import (
    FUNDED,
    ForwardThen,
    age,
    balance,
    bank_requests,
    create,
    finish_at_bank,
    freeze_payload,
    freezes_of,
    handoff_page,
    queries_about,
    recharge_record,
    submit_to_bank,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
NOW = dt.timedelta(0)
DEAD = services.GATEWAY_DEAD_AFTER


def bank_rows() -> int:
    return BankRequest.objects.using("bank").count()


def test_crash_between_local_commit_and_bank_call_is_resent_once(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 70_000), user_no=customer, amount=70_000)
    # The process died here. The default delay keeps a just-made request out of recovery.
    assert services.pending_recover() == {}
    assert bank_requests(record.request_no) == [] and queries_about(record.request_no) == []

    assert services.pending_recover(older_than=NOW) == {"resent": 1}
    [query] = queries_about(record.request_no)
    assert (query.status, query.resp_code) == ("FAIL", codes.QUERY_UNKNOWN)
    [at_bank] = bank_requests(record.request_no)
    assert (at_bank.service_name, at_bank.status, at_bank.resp_code) == ("USER_PRE_TRANSACTION", "SUCCESS", "00000")
    assert at_bank.req_data["amount"] == 70_000 and at_bank.req_data["userNo"] == customer
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.attempts) == ("SUCCESS", "00000", 1)
    assert record.response["requestNo"] == record.request_no
    assert balance(customer) == (FUNDED - 70_000, 70_000) and freezes_of(record.request_no) == 1

    rows = bank_rows()
    assert services.pending_recover(older_than=NOW) == {}
    assert bank_rows() == rows
    assert balance(customer) == (FUNDED - 70_000, 70_000) and freezes_of(record.request_no) == 1
    assert len(counter.calls_for(record.request_no)) == 1


def test_timeout_after_the_bank_did_the_work_is_applied_from_a_query(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    client = dataclasses.replace(get_client(transport=ForwardThen(lose={1: "timeout"})), retries=0)
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 60_000), user_no=customer, amount=60_000)
    assert services.request_send(record=record, client=client).status == "PENDING"
    assert balance(customer) == (FUNDED - 60_000, 60_000)

    assert services.pending_recover(older_than=NOW) == {"applied": 1}
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from, record.attempts) == ("SUCCESS", "00000", "query", 1)
    assert record.response == bank_requests(record.request_no)[0].response
    assert len(queries_about(record.request_no)) == 1
    assert services.pending_recover(older_than=NOW) == {}
    assert len(bank_requests(record.request_no)) == 1 and freezes_of(record.request_no) == 1
    assert balance(customer) == (FUNDED - 60_000, 60_000)
    assert counter.calls_for(record.request_no) == [(record.request_no, "SUCCESS", "query")]


def test_timeout_on_a_refused_request_is_applied_as_the_refusal(customer):
    client = dataclasses.replace(get_client(transport=ForwardThen(lose={1: "timeout"})), retries=0)
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, FUNDED + 1))
    assert services.request_send(record=record, client=client).status == "PENDING"
    assert services.pending_recover(older_than=NOW) == {"applied": 1}
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from) == ("FAIL", codes.INSUFFICIENT_BALANCE, "query")
    assert balance(customer) == (FUNDED, 0)


def test_unreachable_bank_keeps_records_pending_until_it_is_back(customer, settings):
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 1_000))
    down = dataclasses.replace(get_client(), base_url="http://127.0.0.1:1/bank", retries=0)
    assert services.pending_recover(older_than=NOW, client=down) == {"unreachable": 1}
    record.refresh_from_db()
    assert (record.status, record.attempts) == ("PENDING", 0)
    assert services.pending_recover(older_than=NOW) == {"resent": 1}
    record.refresh_from_db()
    assert record.status == "SUCCESS" and freezes_of(record.request_no) == 1


def test_one_broken_record_does_not_block_recovery_of_the_others(customer):
    # Too large for the bank to read at all (over even a BATCH's envelope limit: HTTP 400 on
    # every resend, which the client raises), and older than the good one.
    broken = create("USER_PRE_TRANSACTION", {**freeze_payload(customer, 1), "remark": "x" * 600_000})
    age(broken, created=dt.timedelta(minutes=5))
    good = create("USER_PRE_TRANSACTION", freeze_payload(customer, 2_000))
    assert services.pending_recover(older_than=NOW) == {"error": 1, "resent": 1}
    broken.refresh_from_db()
    good.refresh_from_db()
    assert (broken.status, broken.attempts) == ("PENDING", 1)
    assert bank_requests(broken.request_no) == []
    assert good.status == "SUCCESS" and balance(customer) == (FUNDED - 2_000, 2_000)


def test_resend_racing_the_original_still_has_one_effect(customer):
    """Recovery resends while the original send is still on its way: the bank sees two
    different envelopes for one requestNo, does the first and refuses the other (00006)."""
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 3_000))
    original = get_client().envelope(record.service_name, {"requestNo": record.request_no, **record.payload})
    assert services.pending_recover(older_than=NOW) == {"resent": 1}
    record.refresh_from_db()
    assert record.status == "SUCCESS"
    late = httpx.post(f"{get_client().base_url}/service", json=original.as_dict(), timeout=30)
    answer = envelope.open_response(get_client().bank_public_key, late.json())
    assert answer["respCode"] == codes.REQUEST_NO_REUSED
    assert services.result_apply(resp_data=answer, source="sync").status == "SUCCESS"
    assert freezes_of(record.request_no) == 1 and balance(customer) == (FUNDED - 3_000, 3_000)


# -- gateway requests -------------------------------------------------------------------------


def test_gateway_request_never_taken_to_the_bank_expires_after_the_dead_time(customer, live_urls, handled):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 10_000)
    services.gateway_envelope(record=record)  # the customer saw the hand-off page, then left
    assert services.pending_recover(older_than=NOW) == {"waiting-for-customer": 1}
    age(record, created=DEAD * 2, signed=DEAD - dt.timedelta(seconds=5))
    assert services.pending_recover(older_than=NOW) == {"waiting-for-customer": 1}
    record.refresh_from_db()
    assert record.status == "PENDING" and counter.seen == []

    age(record, created=DEAD * 2, signed=DEAD + dt.timedelta(seconds=1))
    assert services.pending_recover(older_than=NOW) == {"expired": 1}
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from) == ("FAIL", codes.GATEWAY_ABANDONED, "query")
    assert counter.calls_for(record.request_no) == [(record.request_no, "FAIL", "query")]
    assert len(queries_about(record.request_no)) == 3 and bank_requests(record.request_no) == []
    assert services.pending_recover(older_than=NOW) == {}
    assert balance(customer) == (FUNDED, 0)


def test_gateway_page_never_opened_expires_from_its_creation(customer, live_urls):
    record = recharge_record(live_urls, customer, 10_000)
    age(record, created=DEAD - dt.timedelta(seconds=5))
    assert services.pending_recover(older_than=NOW) == {"waiting-for-customer": 1}
    age(record, created=DEAD + dt.timedelta(seconds=1))
    assert services.pending_recover(older_than=NOW) == {"expired": 1}
    record.refresh_from_db()
    assert (record.status, record.resp_code) == ("FAIL", codes.GATEWAY_ABANDONED)


def test_customer_on_the_banks_page_is_not_expired_then_recovery_applies_the_result(
        customer, live_urls, settings, handled, http):
    counter = handled("RECHARGE")
    settings.BANK_PLATFORMS = {no: {**cfg, "notify_url": "http://127.0.0.1:1/notify"}
                               for no, cfg in settings.BANK_PLATFORMS.items()}
    record = recharge_record(live_urls, customer, 10_000)
    _, action, fields = handoff_page(http, live_urls, record.request_no)
    opened = http.post(action, data=fields)
    assert opened.status_code == 200 and bank_requests(record.request_no)[0].status == "PROCESSING"
    age(record, created=DEAD * 3, signed=DEAD * 2)
    assert services.pending_recover(older_than=NOW) == {"still-processing": 1}
    record.refresh_from_db()
    assert record.status == "PENDING"

    gateway.confirm(bank_requests(record.request_no)[0].pk, {"action": "confirm", "password": TRADE_PASSWORD})
    assert services.pending_recover(older_than=NOW) == {"applied": 1}
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "query")
    assert balance(customer) == (FUNDED + 10_000, 0)
    # The notification arrives late; it is acknowledged and changes nothing.
    settings.BANK_PLATFORMS = {no: {**cfg, "notify_url": settings.PLATFORM_NOTIFY_URL}
                               for no, cfg in settings.BANK_PLATFORMS.items()}
    outbox.deliver_due()
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "query")
    assert len(counter.calls_for(record.request_no)) == 1


class ReloadDuringQuery(httpx.BaseTransport):
    """The network edge of the recovery job; while its query is on the wire the customer
    reloads the hand-off page in another browser tab."""

    def __init__(self, reload):
        self.reload, self.done = reload, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if not self.done and b'"serviceName":"QUERY_REQUEST"' in request.content.replace(b" ", b""):
            self.done = True
            self.reload()
        with httpx.HTTPTransport() as inner:
            response = inner.handle_request(request)
            response.read()
        return response


def test_handoff_reload_during_the_recovery_query_is_not_expired(customer, live_urls, http, handled):
    """Recovery decided on a stale signing time: it failed a request whose fresh envelope
    the customer then took to the bank, which moved the money (found as a bug)."""
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 10_000)
    services.gateway_envelope(record=record)
    age(record, created=DEAD * 2, signed=DEAD + dt.timedelta(seconds=60))
    fresh: dict = {}

    def reload() -> None:
        _, fresh["action"], fresh["fields"] = handoff_page(http, live_urls, record.request_no)

    client = get_client(transport=ReloadDuringQuery(reload))
    assert services.pending_recover(older_than=NOW, client=client) == {"waiting-for-customer": 1}
    record.refresh_from_db()
    assert record.status == "PENDING"
    assert fresh["fields"]["reqData"] == record.gateway_req_data

    at_bank = submit_to_bank(http, fresh["action"], fresh["fields"])
    assert (at_bank.status, at_bank.resp_code) == ("SUCCESS", "00000")
    outbox.deliver_due()
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "notify")
    assert balance(customer) == (FUNDED + 10_000, 0)
    assert counter.calls_for(record.request_no) == [(record.request_no, "SUCCESS", "notify")]


def test_no_envelope_is_signed_for_a_record_recovery_just_expired(customer, live_urls, http):
    record = recharge_record(live_urls, customer, 10_000)
    stale = DepositoryRequest.objects.get(pk=record.pk)  # a hand-off view that loaded it just before
    age(record, created=DEAD * 2)
    assert services.pending_recover(older_than=NOW) == {"expired": 1}
    with pytest.raises(services.AlreadyFinal):
        services.gateway_envelope(record=stale)
    stale.refresh_from_db()
    assert (stale.status, stale.gateway_req_data, stale.gateway_signed_at) == ("FAIL", "", None)
    response, _, fields = handoff_page(http, live_urls, record.request_no)
    assert response.status_code == 409 and fields == {}


def test_finished_at_the_bank_but_notification_lost_is_applied_by_recovery(customer, live_urls, settings):
    settings.BANK_PLATFORMS = {no: {**cfg, "notify_url": "http://127.0.0.1:1/notify"}
                               for no, cfg in settings.BANK_PLATFORMS.items()}
    record = recharge_record(live_urls, customer, 15_000)
    assert finish_at_bank(record).status == "SUCCESS"
    outbox.deliver_due()
    assert services.pending_recover(older_than=NOW) == {"applied": 1}
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from) == ("SUCCESS", "00000", "query")
    assert record.response["amount"] == 15_000
