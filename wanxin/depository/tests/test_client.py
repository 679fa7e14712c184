"""Direct requests from the platform over real HTTP: sync results, refusals, timeouts, retries."""

from __future__ import annotations

import dataclasses

import pytest

from wanxin.bank.tests.helpers import open_account
from wanxin.depository import services
from wanxin.depository.client import BankUnavailable, get_client
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import codes, envelope

from .conftest import (
    FUNDED,
    ForwardThen,
    balance,
    bank_requests,
    create,
    freeze_payload,
    freezes_of,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def test_query_balance_of_platform_capital_is_applied_from_the_sync_answer(live_urls, handled):
    counter = handled("QUERY_BALANCE")
    record = services.direct_call(service_name="QUERY_BALANCE", payload={"userNo": "PLATFORM_CAPITAL"})
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from, record.attempts) == ("SUCCESS", "00000", "sync", 1)
    assert record.response["userNo"] == "PLATFORM_CAPITAL"
    assert (record.response["available"], record.response["frozen"]) == balance("PLATFORM_CAPITAL")
    assert record.response["requestNo"] == record.request_no
    assert record.finished_at is not None
    [at_bank] = bank_requests(record.request_no)
    assert (at_bank.service_name, at_bank.status, at_bank.resp_code) == ("QUERY_BALANCE", "SUCCESS", "00000")
    assert counter.calls_for(record.request_no) == [(record.request_no, "SUCCESS", "sync")]


def test_pre_transaction_freezes_once_and_runs_handlers_once(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 30_000), user_no=customer, amount=30_000)
    assert record.status == "PENDING" and bank_requests(record.request_no) == []
    sent = services.request_send(record=record)
    assert (sent.status, sent.resp_code, sent.applied_from) == ("SUCCESS", "00000", "sync")
    assert sent.response["frozen"] == 30_000
    assert balance(customer) == (FUNDED - 30_000, 30_000)
    assert freezes_of(record.request_no) == 1
    # Sending it again (new timestamp, so 00006 at the bank) changes nothing; the attempt
    # is counted in the database even through a stale copy of the record.
    assert record.attempts == 0
    again = services.request_send(record=record)
    assert (again.status, again.applied_from, again.finished_at) == ("SUCCESS", "sync", sent.finished_at)
    assert again.attempts == 2
    assert balance(customer) == (FUNDED - 30_000, 30_000)
    assert len(bank_requests(record.request_no)) == 1 and freezes_of(record.request_no) == 1
    assert len(counter.calls_for(record.request_no)) == 1


@pytest.mark.parametrize(
    "payload, code",
    [
        (freeze_payload("cust1", FUNDED + 1), codes.INSUFFICIENT_BALANCE),
        (freeze_payload("ghost", 100), codes.ACCOUNT_NOT_FOUND),
        ({"userNo": "cust1", "bizType": "TENDER", "amount": 100, "projectNo": "NOPE"}, codes.PROJECT_STATE),
    ],
)
def test_business_refusal_is_fail_with_the_banks_code(customer, handled, payload, code):
    counter = handled("USER_PRE_TRANSACTION")
    record = services.direct_call(service_name="USER_PRE_TRANSACTION", payload=payload)
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from) == ("FAIL", code, "sync")
    assert record.resp_msg and record.response["status"] == "FAIL"
    assert balance(customer) == (FUNDED, 0)
    [at_bank] = bank_requests(record.request_no)
    assert (at_bank.status, at_bank.resp_code, at_bank.moved_money) == ("FAIL", code, False)
    assert counter.calls_for(record.request_no) == [(record.request_no, "FAIL", "sync")]


def test_unauthorised_biz_type_is_30002(live_urls, platform_key):
    assert open_account(platform_key, "shy", auth=[], id_suffix="00000102").status == "SUCCESS"
    record = services.direct_call(service_name="USER_PRE_TRANSACTION", payload=freeze_payload("shy", 1))
    assert (record.status, record.resp_code) == ("FAIL", codes.NOT_AUTHORISED)


def test_invalid_parameters_are_final_and_not_recorded_at_the_bank(customer):
    record = services.direct_call(service_name="USER_PRE_TRANSACTION", payload={**freeze_payload(customer, 1.5)})
    assert (record.status, record.resp_code) == ("FAIL", codes.INVALID_PARAMS)
    assert "amount" in record.resp_msg
    assert bank_requests(record.request_no) == []


def test_unknown_service_is_refused_before_anything_is_written(live_urls):
    with pytest.raises(ValueError):
        services.request_create(service_name="STEAL_MONEY", payload={})
    assert DepositoryRequest.objects.count() == 0


def test_timeout_then_own_retry_gets_the_stored_answer_with_the_same_bytes(customer):
    edge = ForwardThen(lose={1: "timeout"})
    client = dataclasses.replace(get_client(transport=edge), retry_delay=0)
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 40_000), user_no=customer, amount=40_000)
    sent = services.request_send(record=record, client=client)
    assert len(edge.bodies) == 2 and edge.bodies[0] == edge.bodies[1], "a retry resends the identical bytes"
    assert (sent.status, sent.resp_code, sent.applied_from, sent.attempts) == ("SUCCESS", "00000", "sync", 1)
    assert balance(customer) == (FUNDED - 40_000, 40_000)
    assert len(bank_requests(record.request_no)) == 1 and freezes_of(record.request_no) == 1


def test_timeout_without_retries_leaves_the_record_pending(customer):
    edge = ForwardThen(lose={1: "timeout"})
    client = dataclasses.replace(get_client(transport=edge), retries=0)
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 40_000), user_no=customer, amount=40_000)
    sent = services.request_send(record=record, client=client)
    assert (sent.status, sent.resp_code, sent.applied_from, sent.attempts) == ("PENDING", "", "", 1)
    # The bank did the work; the platform just has not heard yet (recovery: test_recovery).
    assert balance(customer) == (FUNDED - 40_000, 40_000)
    assert [r.status for r in bank_requests(record.request_no)] == ["SUCCESS"]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_proxy_5xx_after_the_bank_did_the_work_is_retried_not_raised(customer, status):
    """A gateway timeout from a proxy is an unknown outcome, like a network timeout."""
    edge = ForwardThen(lose={1: status})
    client = dataclasses.replace(get_client(transport=edge), retry_delay=0)
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 5_000), user_no=customer, amount=5_000)
    sent = services.request_send(record=record, client=client)
    assert (sent.status, sent.applied_from) == ("SUCCESS", "sync")
    assert edge.bodies[0] == edge.bodies[1]
    assert balance(customer) == (FUNDED - 5_000, 5_000) and freezes_of(record.request_no) == 1


def test_bank_down_behind_a_proxy_leaves_the_record_pending(customer):
    edge = ForwardThen(block={1: 502, 2: 502, 3: 502})
    client = dataclasses.replace(get_client(transport=edge), retry_delay=0)
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 5_000), user_no=customer, amount=5_000)
    sent = services.request_send(record=record, client=client)
    assert len(edge.bodies) == 3
    assert (sent.status, sent.attempts) == ("PENDING", 1)
    assert bank_requests(record.request_no) == [] and balance(customer) == (FUNDED, 0)


def test_closed_port_is_bank_unavailable(live_urls, settings):
    settings.BANK_URL = "http://127.0.0.1:1/bank"
    client = dataclasses.replace(get_client(), retries=1, retry_delay=0)
    with pytest.raises(BankUnavailable):
        client.send("QUERY_BALANCE", {"requestNo": "X1", "userNo": "PLATFORM_CAPITAL"})
    record = services.direct_call(service_name="QUERY_BALANCE", payload={"userNo": "PLATFORM_CAPITAL"}, client=client)
    assert (record.status, record.attempts) == ("PENDING", 1)


def test_client_rejects_an_answer_not_signed_by_the_bank(live_urls):
    from wanxin.protocol import signing

    client = dataclasses.replace(get_client(), bank_public_key=signing.generate_private_key().public_key())
    with pytest.raises(codes.ProtocolError) as err:
        client.send("QUERY_BALANCE", {"requestNo": "X2", "userNo": "PLATFORM_CAPITAL"})
    assert err.value.code == codes.BAD_SIGNATURE


def test_request_envelope_is_signed_and_stamped(live_urls, platform_key):
    from wanxin.protocol import signing

    env = get_client().envelope("QUERY_BALANCE", {"requestNo": "X3", "userNo": "u"})
    assert signing.verify(platform_key.public_key(), env.req_data, env.signature)
    data = envelope.decode_data(env.req_data)
    assert set(data) == {"requestNo", "userNo", "timestamp"} and isinstance(data["timestamp"], int)
