"""The hand-off page that carries a gateway request to the bank, and the callback page."""

from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import pytest
from django.conf import settings

from wanxin.bank import gateway, outbox
from wanxin.depository import services
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import envelope, signing

from .conftest import (
    CUSTOMER,
    FUNDED,
    age,
    balance,
    bank_requests,
    create,
    finish_at_bank,
    freeze_payload,
    handoff_page,
    logged_in,
    platform_user,
    recharge_record,
    submit_to_bank,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def snapshot(record: DepositoryRequest) -> dict:
    record.refresh_from_db()
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}


def test_handoff_renders_an_auto_submitting_signed_form(customer, live_urls, http, platform_key):
    record = recharge_record(live_urls, customer, 25_000)
    response, action, fields = handoff_page(http, live_urls, record.request_no)
    assert response.status_code == 200
    # Sent by the site's static script (the Content-Security-Policy refuses inline code).
    assert re.search(r'<form id="to-bank" [^>]*data-autosubmit', response.text)
    assert '<script src="/static/web/site.js"' in response.text
    assert action == f"{settings.BANK_URL}/gateway" == f"{live_urls}/bank/gateway"
    assert set(fields) == {"serviceName", "platformNo", "reqData", "signature"}
    assert (fields["serviceName"], fields["platformNo"]) == ("RECHARGE", "WANXIN")
    assert signing.verify(platform_key.public_key(), fields["reqData"], fields["signature"])
    data = envelope.decode_data(fields["reqData"])
    assert abs(data.pop("timestamp") - time.time() * 1000) < 10_000
    assert data == {"requestNo": record.request_no, "userNo": customer, "amount": 25_000,
                    "callbackUrl": f"{live_urls}/depository/callback"}
    record.refresh_from_db()
    assert (record.gateway_req_data, record.gateway_signature) == (fields["reqData"], fields["signature"])
    assert record.status == "PENDING" and bank_requests(record.request_no) == []


def test_reload_within_240_seconds_reuses_the_signed_envelope(customer, live_urls, http):
    record = recharge_record(live_urls, customer, 25_000)
    _, _, first = handoff_page(http, live_urls, record.request_no)
    record.refresh_from_db()
    signed_at = record.gateway_signed_at
    _, _, again = handoff_page(http, live_urls, record.request_no)
    assert again == first
    record.refresh_from_db()
    assert record.gateway_signed_at == signed_at

    age(record, signed=dt.timedelta(seconds=239))
    _, _, later = handoff_page(http, live_urls, record.request_no)
    assert later == first

    age(record, signed=dt.timedelta(seconds=241))
    _, action, fresh = handoff_page(http, live_urls, record.request_no)
    assert fresh["reqData"] != first["reqData"] and fresh["signature"] != first["signature"]
    old, new = envelope.decode_data(first["reqData"]), envelope.decode_data(fresh["reqData"])
    assert new.pop("timestamp") > old.pop("timestamp")
    assert new == old
    record.refresh_from_db()
    assert record.gateway_req_data == fresh["reqData"] and record.gateway_signed_at > signed_at
    # The fresh envelope is the one the bank accepts.
    assert submit_to_bank(http, action, fresh).status == "SUCCESS"


def test_full_round_trip_through_the_pages_then_409(customer, live_urls, http, handled):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 33_000)
    _, action, fields = handoff_page(http, live_urls, record.request_no)
    at_bank = submit_to_bank(http, action, fields)
    assert (at_bank.status, at_bank.resp_code) == ("SUCCESS", "00000")
    # The bank's page sends the browser back before the notification is delivered.
    callback_url = gateway.Page(at_bank).callback
    assert callback_url == f"{live_urls}/depository/callback?requestNo={record.request_no}&respCode=00000"
    pending = snapshot(record)
    page = http.get(callback_url)
    assert page.status_code == 200 and 'data-status="PENDING"' in page.text
    assert snapshot(record) == pending and counter.seen == []

    outbox.deliver_due()
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "notify")
    assert balance(customer) == (FUNDED + 33_000, 0)
    page = http.get(callback_url)
    assert 'data-status="SUCCESS"' in page.text and "done." in page.text

    settled = snapshot(record)
    response, _, fields = handoff_page(http, live_urls, record.request_no)
    assert response.status_code == 409 and fields == {}
    assert "already finished (Done)" in response.text
    assert snapshot(record) == settled
    assert len(counter.calls_for(record.request_no)) == 1


def test_handoff_of_a_failed_record_is_409(customer, live_urls, http):
    record = recharge_record(live_urls, customer, 1_000)
    finish_at_bank(record, action="cancel")
    outbox.deliver_due()
    record.refresh_from_db()
    assert record.status == "FAIL"
    response, _, fields = handoff_page(http, live_urls, record.request_no)
    assert response.status_code == 409 and fields == {}


def test_handoff_of_unknown_or_direct_requests_is_404(customer, live_urls, http):
    assert http.get(f"{live_urls}/depository/gateway/NOPE123").status_code == 404
    direct = create("USER_PRE_TRANSACTION", freeze_payload(customer, 1))
    assert http.get(f"{live_urls}/depository/gateway/{direct.request_no}").status_code == 404
    direct.refresh_from_db()
    assert direct.gateway_req_data == "" and direct.status == "PENDING"
    with pytest.raises(ValueError):
        services.gateway_envelope(record=direct)


@pytest.mark.parametrize("resp_code", ["00000", "30004", "30042", ""])
def test_callback_changes_no_state(customer, live_urls, http, resp_code):
    record = recharge_record(live_urls, customer, 1_000)
    handoff_page(http, live_urls, record.request_no)
    before = snapshot(record)
    page = http.get(f"{live_urls}/depository/callback", params={"requestNo": record.request_no,
                                                               "respCode": resp_code})
    assert page.status_code == 200 and 'data-status="PENDING"' in page.text
    assert snapshot(record) == before
    assert bank_requests(record.request_no) == []


def test_callback_for_an_unknown_request(live_urls, http):
    page = http.get(f"{live_urls}/depository/callback", params={"requestNo": "NOPE", "respCode": "00000"})
    assert page.status_code == 404 and "Unknown request." in page.text
    assert DepositoryRequest.objects.count() == 0


# -- served to the owner only (PROTOCOL §4a: the envelope carries personal data) ---------------


def register_record(live_url: str, user_no: str) -> DepositoryRequest:
    return create("PERSONAL_REGISTER", {
        "userNo": user_no, "fullName": "Li Lei", "idNumber": "110101199001011234", "mobile": "13912345678",
        "role": "BOTH", "bankCode": "ICBC", "cardNumber": "6222020200112233445", "authList": ["TENDER"],
        "callbackUrl": f"{live_url}/depository/callback"}, user_no=user_no)


def _browser(user=None) -> httpx.Client:
    client = httpx.Client(timeout=30)
    return logged_in(client, user) if user is not None else client


def test_handoff_is_404_to_anyone_but_its_owner(live_urls, http):
    from wanxin.accounts.models import User

    record = register_record(live_urls, CUSTOMER)
    other = platform_user("someone-else", "U_OTHER_1")
    operator = User.objects.create_user(username="op-h1", password="correct-horse-battery-9",
                                        is_operator=True, is_staff=True)
    url = f"{live_urls}/depository/gateway/{record.request_no}"
    for name, user in (("anonymous", None), ("another customer", other), ("operator", operator)):
        with _browser(user) as browser:
            response = browser.get(url)
            assert response.status_code == 404, name
            for secret in ("110101199001011234", "6222020200112233445", "13912345678", "Li Lei", "reqData"):
                assert secret not in response.text, (name, secret)
            callback = browser.get(f"{live_urls}/depository/callback", params={"requestNo": record.request_no})
            assert callback.status_code == 404 and record.request_no not in callback.text, name
    record.refresh_from_db()
    assert record.gateway_req_data == "" and record.gateway_signed_at is None  # nothing was signed

    response, action, fields = handoff_page(http, live_urls, record.request_no)
    assert response.status_code == 200 and action.endswith("/bank/gateway")
    assert "no-store" in response.headers["cache-control"]
    assert envelope.decode_data(fields["reqData"])["idNumber"] == "110101199001011234"
    callback = http.get(f"{live_urls}/depository/callback", params={"requestNo": record.request_no})
    assert callback.status_code == 200 and 'data-status="PENDING"' in callback.text
    assert "no-store" in callback.headers["cache-control"]


def test_handoff_of_a_request_without_an_owner_is_404_even_logged_in(live_urls, http):
    record = create("RECHARGE", {"userNo": "U_NOBODY", "amount": 1_000,
                                 "callbackUrl": f"{live_urls}/depository/callback"}, user_no="U_NOBODY")
    assert http.get(f"{live_urls}/depository/gateway/{record.request_no}").status_code == 404
