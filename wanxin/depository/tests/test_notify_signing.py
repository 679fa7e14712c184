"""PROTOCOL §4a over real HTTP: notifications are signed apart from responses, a response
replayed as a notification is refused, and codes the bank never records are never applied
from a notification or a query (answered OK, ignored, logged, counted)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import time

import httpx
import pytest

from wanxin.bank import outbox
from wanxin.bank.models import BankRequest
from wanxin.bank.platforms import bank_private_key
from wanxin.bank.processing import notification_body, response_data
from wanxin.depository import services
from wanxin.depository.client import get_client
from wanxin.depository.models import DepositoryRequest, IgnoredBankResult
from wanxin.protocol import codes, envelope, signing

from .conftest import (
    FUNDED,
    balance,
    bank_requests,
    create,
    finish_at_bank,
    freeze_payload,
    notification,
    recharge_record,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
NOW = dt.timedelta(0)


def notify_url(live_url: str) -> str:
    return f"{live_url}/api/v1/depository/notify"


def snapshot(record: DepositoryRequest) -> dict:
    record.refresh_from_db()
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}


def ignored() -> list[tuple[str, str, str, str]]:
    return list(IgnoredBankResult.objects.order_by("id").values_list("reason", "resp_code", "request_no", "source"))


def test_notification_is_signed_over_the_prefix_and_names_service_and_time(customer, live_urls, settings):
    settings.BANK_PLATFORMS = {no: {**cfg, "notify_url": "http://127.0.0.1:1/notify"}
                               for no, cfg in settings.BANK_PLATFORMS.items()}
    record = recharge_record(live_urls, customer, 12_000)
    before = int(time.time() * 1000)
    at_bank = finish_at_bank(record)
    after = int(time.time() * 1000)
    body = notification(record.request_no).body
    assert set(body) == {"serviceName", "platformNo", "respData", "signature"}
    assert (body["serviceName"], body["platformNo"]) == ("NOTIFY", "WANXIN")
    bank_key = signing.load_public_key(settings.BANK_PUBLIC_KEY)
    assert signing.verify(bank_key, "NOTIFY:" + body["respData"], body["signature"])
    assert not signing.verify(bank_key, body["respData"], body["signature"])
    data = envelope.decode_data(body["respData"])
    assert data.pop("serviceName") == "RECHARGE"
    assert before <= data.pop("notifiedAt") <= after
    assert data == at_bank.response  # the rest is the stored response, unchanged

    settings.BANK_PLATFORMS = {no: {**cfg, "notify_url": settings.PLATFORM_NOTIFY_URL}
                               for no, cfg in settings.BANK_PLATFORMS.items()}
    assert outbox.deliver_due() == 1
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "notify")
    assert record.response == at_bank.response  # the notification's own fields are not the result
    assert ignored() == []


def test_forged_notification_from_a_real_bank_refusal_is_refused(customer, live_urls, http, handled, settings):
    """The attack: the bank signs its refusal of an unverifiable request that names our
    pending requestNo; posted as a notification it must change nothing."""
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 40_000)
    pending = snapshot(record)
    bank_rows = BankRequest.objects.using("bank").count()

    req_data = envelope.encode_data({"requestNo": record.request_no, "timestamp": int(time.time() * 1000)})
    forged_env = {"serviceName": "RECHARGE", "platformNo": "WANXIN", "reqData": req_data,
                  "signature": base64.b64encode(b"\x00" * 64).decode()}
    answer = http.post(f"{live_urls}/bank/service", json=forged_env)
    assert answer.status_code == 200
    refusal = envelope.open_response(signing.load_public_key(settings.BANK_PUBLIC_KEY), answer.json())
    assert (refusal["requestNo"], refusal["respCode"]) == (record.request_no, codes.BAD_SIGNATURE)

    response = http.post(notify_url(live_urls), json={"serviceName": "NOTIFY", "platformNo": "WANXIN",
                                                      **answer.json()})
    assert response.status_code == 400 and response.text != "OK"
    assert "signed as a response" in response.text
    assert snapshot(record) == pending and counter.seen == []
    assert BankRequest.objects.using("bank").count() == bank_rows
    assert ignored() == [("RESPONSE_REPLAYED", codes.BAD_SIGNATURE, record.request_no, "notify")]

    # The customer's own confirmation at the bank then completes normally.
    assert finish_at_bank(record).status == "SUCCESS"
    assert outbox.deliver_due() == 1
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from) == ("SUCCESS", codes.SUCCESS, "notify")
    assert balance(customer) == (FUNDED + 40_000, 0)
    assert counter.calls_for(record.request_no) == [(record.request_no, "SUCCESS", "notify")]


def test_a_real_response_replayed_as_a_notification_is_refused(customer, live_urls, http, handled):
    """The bank's genuine answer to a direct request the platform never heard back from."""
    counter = handled("USER_PRE_TRANSACTION")
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 5_000), user_no=customer, amount=5_000)
    env = get_client().envelope(record.service_name, {"requestNo": record.request_no, **record.payload})
    answer = http.post(f"{live_urls}/bank/service", json=env.as_dict())
    assert answer.status_code == 200
    assert balance(customer) == (FUNDED - 5_000, 5_000)  # the bank did it
    pending = snapshot(record)

    response = http.post(notify_url(live_urls), json={"serviceName": "NOTIFY", "platformNo": "WANXIN",
                                                      **answer.json()})
    assert response.status_code == 400 and response.text != "OK"
    assert snapshot(record) == pending and counter.seen == []
    assert ignored() == [("RESPONSE_REPLAYED", codes.SUCCESS, record.request_no, "notify")]
    # Recovery still learns the result from the bank.
    assert services.pending_recover(older_than=NOW) == {"applied": 1}
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "query")


@pytest.mark.parametrize("code", sorted(codes.NOT_RECORDED))
def test_unrecorded_codes_in_a_bank_signed_notification_are_acknowledged_and_ignored(
        customer, live_urls, http, handled, code):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 7_000)
    pending = snapshot(record)
    body = notification_body("WANXIN", "RECHARGE", response_data(record.request_no, code))
    for _ in range(2):
        response = http.post(notify_url(live_urls), json=body)
        assert (response.status_code, response.text) == (200, "OK")
    assert snapshot(record) == pending and counter.seen == []
    assert ignored() == [("UNRECORDED_CODE", code, record.request_no, "notify")] * 2
    # Even for a requestNo the platform never made: OK, nothing recorded but the count.
    stranger = notification_body("WANXIN", "RECHARGE", response_data("NEVER-MADE", code))
    assert http.post(notify_url(live_urls), json=stranger).text == "OK"
    assert DepositoryRequest.objects.count() == 1 and len(ignored()) == 3

    assert finish_at_bank(record).status == "SUCCESS"
    assert outbox.deliver_due() == 1
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "notify")
    assert balance(customer) == (FUNDED + 7_000, 0)


def test_unrecorded_code_from_a_query_is_not_applied_by_recovery(customer, live_urls, http, handled):
    """Were the bank ever to report a 00003 as a request's stored result, recovery would not
    settle the record with it."""
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 9_000)
    opened = http.post(f"{live_urls}/bank/gateway", data=services.gateway_envelope(record=record))
    assert opened.status_code == 200
    [at_bank] = bank_requests(record.request_no)
    refusal = response_data(record.request_no, codes.INVALID_PARAMS)
    BankRequest.objects.using("bank").filter(pk=at_bank.pk).update(
        status="FAIL", resp_code=codes.INVALID_PARAMS, response=refusal)
    pending = snapshot(record)

    assert services.pending_recover(older_than=NOW) == {"ignored": 1}
    assert snapshot(record) == pending and counter.seen == []
    assert ignored() == [("UNRECORDED_CODE", codes.INVALID_PARAMS, record.request_no, "query")]
    assert services.pending_recover(older_than=NOW) == {"ignored": 1}  # and again: never applied
    assert snapshot(record) == pending


def test_notification_naming_another_service_is_refused(customer, live_urls, http, handled):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 3_000)
    pending = snapshot(record)
    body = notification_body("WANXIN", "WITHDRAW", response_data(record.request_no, codes.INSUFFICIENT_BALANCE))
    response = http.post(notify_url(live_urls), json=body)
    assert response.status_code == 400 and "not WITHDRAW" in response.text
    assert snapshot(record) == pending and counter.seen == []


@pytest.mark.parametrize("missing", ["serviceName", "notifiedAt"])
def test_notification_without_its_own_fields_is_refused(customer, live_urls, http, missing):
    record = recharge_record(live_urls, customer, 3_000)
    pending = snapshot(record)
    data = {**response_data(record.request_no, codes.SUCCESS), "serviceName": "RECHARGE",
            "notifiedAt": int(time.time() * 1000)}
    del data[missing]
    body = {"serviceName": "NOTIFY", "platformNo": "WANXIN", **envelope.sign_notification(bank_private_key(), data)}
    response = http.post(notify_url(live_urls), json=body)
    assert response.status_code == 400 and "serviceName or notifiedAt" in response.text
    assert snapshot(record) == pending


# -- bodies that exhaust a recursive parser -----------------------------------------------------

DEEP = 50_000


def test_deeply_nested_json_to_the_notify_endpoint_is_400(live_urls, http):
    for body in (b"[" * DEEP, b'{"a":' * DEEP, b"[" * DEEP + b"]" * DEEP):
        response = http.post(notify_url(live_urls), content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert "nested too deeply" in response.text
    assert IgnoredBankResult.objects.count() == 0


def test_deeply_nested_json_to_the_bank_is_400_or_a_signed_refusal(live_urls, http, settings):
    rows = BankRequest.objects.using("bank").count()
    response = http.post(f"{live_urls}/bank/service", content=b"[" * DEEP,
                         headers={"content-type": "application/json"})
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]

    # A well-formed envelope whose reqData decodes to deep nesting: the unrecorded refusal path.
    bank_key = signing.load_public_key(settings.BANK_PUBLIC_KEY)
    for text in ("[" * DEEP, '{"requestNo":"DEEP1","x":' + "[" * DEEP + "]" * DEEP + "}"):
        req_data = base64.b64encode(text.encode()).decode()
        env = {"serviceName": "QUERY_BALANCE", "platformNo": "WANXIN", "reqData": req_data,
               "signature": base64.b64encode(b"\x01" * 64).decode()}
        response = http.post(f"{live_urls}/bank/service", json=env)
        assert response.status_code == 200, response.text
        data = envelope.open_response(bank_key, response.json())
        assert (data["respCode"], data["status"]) == (codes.BAD_SIGNATURE, "FAIL")
        # Validly signed by the platform: the bank decodes it and refuses it with 00003.
        signed = {**env, "signature": signing.sign(signing.load_private_key(settings.PLATFORM_PRIVATE_KEY), req_data)}
        response = http.post(f"{live_urls}/bank/service", json=signed)
        assert response.status_code == 200, response.text
        data = envelope.open_response(bank_key, response.json())
        assert data["respCode"] == codes.INVALID_PARAMS and "nested too deeply" in data["respMsg"]
        # And at the browser gateway: the bank's error page, not a crash.
        page = http.post(f"{live_urls}/bank/gateway", data={**signed, "serviceName": "RECHARGE"})
        assert page.status_code == 200 and "refused by the bank" in page.text
    assert BankRequest.objects.using("bank").count() == rows


def test_client_treats_an_unreadable_answer_as_unknown(customer, live_urls):
    """A 200 whose body is not the bank's JSON (a proxy's page, deep nesting): the record
    stays pending for recovery instead of crashing the caller."""
    class Garbled(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=b"[" * DEEP, request=request)

    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 1_000))
    client = dataclasses.replace(get_client(transport=Garbled()), retries=0)
    assert services.request_send(record=record, client=client).status == "PENDING"
    assert bank_requests(record.request_no) == []
    assert snapshot(record)["status"] == "PENDING" and snapshot(record)["attempts"] == 1


def test_oversized_bodies_are_refused(live_urls, http):
    """The platform's input guard answers 413 before the notify view reads the body; the bank
    answers an unparsable envelope with 400 (PROTOCOL §4)."""
    big = b'{"serviceName":"NOTIFY","respData":"' + b"A" * (600 * 1024) + b'"}'
    for url, expected in ((notify_url(live_urls), 413), (f"{live_urls}/bank/service", 400)):
        response = http.post(url, content=big, headers={"content-type": "application/json"})
        assert response.status_code == expected, (url, response.status_code)
