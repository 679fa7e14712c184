"""Notifications from the bank's outbox to the platform's notify endpoint, over real HTTP."""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt

import pytest
from django.utils import timezone

from wanxin.bank import outbox
from wanxin.bank.models import Notification
from wanxin.bank.platforms import bank_private_key
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import codes, envelope, signing

from .conftest import FUNDED, balance, finish_at_bank, notification, recharge_record

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def point_notify_at(settings, url: str) -> None:
    settings.BANK_PLATFORMS = {no: {**cfg, "notify_url": url} for no, cfg in settings.BANK_PLATFORMS.items()}


def make_due(request_no: str) -> None:
    Notification.objects.using("bank").filter(request_no=request_no).update(next_attempt_at=timezone.now())


def deliver_once(request_no: str) -> Notification:
    """One delivery round of the bank's outbox; returns our notification as it then stands."""
    before = timezone.now()
    outbox.deliver_due()
    after = timezone.now()
    note = notification(request_no)
    note.window = (before, after)  # when the attempt happened
    return note


def snapshot(record: DepositoryRequest) -> dict:
    record.refresh_from_db()
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}


def test_failing_endpoint_backs_off_then_delivery_settles_the_record_once(customer, live_urls, settings, handled):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 50_000)
    point_notify_at(settings, f"{live_urls}/api/v1/depository/notify-moved")  # 404 on the live server
    at_bank = finish_at_bank(record)
    assert (at_bank.status, at_bank.resp_code) == ("SUCCESS", "00000")
    assert balance(customer) == (FUNDED + 50_000, 0)

    # Attempt 1 (404), 2 (500-ish: a closed port), 3 (404 again): each waits twice as long.
    broken = [f"{live_urls}/api/v1/depository/notify-moved", "http://127.0.0.1:1/notify",
              f"{live_urls}/api/v1/depository/notify-moved"]
    for attempt, url in enumerate(broken, start=1):
        point_notify_at(settings, url)
        make_due(record.request_no)
        note = deliver_once(record.request_no)
        assert (note.status, note.attempts) == ("PENDING", attempt)
        delay = dt.timedelta(seconds=5 * 2 ** (attempt - 1))
        assert note.window[0] + delay <= note.next_attempt_at <= note.window[1] + delay
        assert ("HTTP 404" in note.last_error) if "moved" in url else ("ConnectError" in note.last_error)
        record.refresh_from_db()
        assert (record.status, record.resp_code, record.finished_at) == ("PENDING", "", None)
        # Not due yet: another round does not touch it.
        outbox.deliver_due()
        assert notification(record.request_no).attempts == attempt
    assert counter.seen == []

    point_notify_at(settings, settings.PLATFORM_NOTIFY_URL)
    make_due(record.request_no)
    note = deliver_once(record.request_no)
    assert (note.status, note.attempts) == ("DELIVERED", 4)
    assert note.window[0] <= note.delivered_at <= note.window[1]
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from) == ("SUCCESS", "00000", "notify")
    assert record.response["amount"] == 50_000 and record.response["userNo"] == customer
    assert counter.calls_for(record.request_no) == [(record.request_no, "SUCCESS", "notify")]

    # Delivered notifications are not sent again.
    make_due(record.request_no)
    outbox.deliver_due()
    assert notification(record.request_no).attempts == 4
    assert len(counter.seen) == 1


def test_duplicate_notification_answers_ok_and_changes_nothing(customer, live_urls, handled, http):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 20_000)
    finish_at_bank(record)
    outbox.deliver_due()
    assert notification(record.request_no).status == "DELIVERED"
    settled = snapshot(record)
    assert settled["status"] == "SUCCESS"
    body = notification(record.request_no).body
    for _ in range(3):
        response = http.post(settings_notify_url(live_urls), json=body)
        assert (response.status_code, response.text) == (200, "OK")
    assert snapshot(record) == settled
    assert len(counter.calls_for(record.request_no)) == 1


def test_concurrent_duplicates_apply_exactly_once(customer, live_urls, settings, handled, http):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 20_000)
    point_notify_at(settings, "http://127.0.0.1:1/notify")
    finish_at_bank(record)
    body = notification(record.request_no).body
    with cf.ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda _: http.post(settings_notify_url(live_urls), json=body), range(10)))
    assert [(r.status_code, r.text) for r in responses] == [(200, "OK")] * 10
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "notify")
    assert counter.calls_for(record.request_no) == [(record.request_no, "SUCCESS", "notify")]


def test_cancelled_at_the_bank_is_notified_as_30004(customer, live_urls, handled):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 20_000)
    assert finish_at_bank(record, action="cancel").resp_code == codes.GATEWAY_ABANDONED
    outbox.deliver_due()
    record.refresh_from_db()
    assert (record.status, record.resp_code, record.applied_from) == ("FAIL", codes.GATEWAY_ABANDONED, "notify")
    assert balance(customer) == (FUNDED, 0)
    assert counter.calls_for(record.request_no) == [(record.request_no, "FAIL", "notify")]


def settings_notify_url(live_url: str) -> str:
    return f"{live_url}/api/v1/depository/notify"


def forged_bodies(body: dict, platform_key) -> dict[str, dict | str | bytes]:
    data = envelope.decode_data(body["respData"])
    failed = envelope.encode_data({**data, "respCode": codes.INSUFFICIENT_BALANCE, "status": "FAIL"})
    other = signing.generate_private_key()
    return {
        "tampered respData": {**body, "respData": failed},
        "no signature": {k: v for k, v in body.items() if k != "signature"},
        "empty signature": {**body, "signature": ""},
        "signed by someone else": {**body, **envelope.sign_response(other, data)},
        "signed with the platform's own key": {**body, **envelope.sign_notification(platform_key, data)},
        "signed by the bank as a response": {**body, **envelope.sign_response(bank_private_key(), data)},
        "signature not base64": {**body, "signature": "%%%"},
        "respData not base64": {**body, "respData": "%%%"},
        "not NOTIFY": {**body, "serviceName": "QUERY_BALANCE"},
        "other platform": {**body, "platformNo": "OTHER"},
        "a JSON list": [body],
        "not JSON": b"{respData",
        "not UTF-8": b"\xff\xfe",
    }


def test_forged_or_unsigned_notifications_are_400_and_change_nothing(customer, live_urls, settings, handled, http,
                                                                      platform_key):
    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 20_000)
    point_notify_at(settings, "http://127.0.0.1:1/notify")  # the genuine one stays in the outbox
    finish_at_bank(record)
    body = notification(record.request_no).body
    pending = snapshot(record)
    assert pending["status"] == "PENDING"
    for name, forged in forged_bodies(body, platform_key).items():
        if isinstance(forged, bytes):
            response = http.post(settings_notify_url(live_urls), content=forged,
                                 headers={"content-type": "application/json"})
        else:
            response = http.post(settings_notify_url(live_urls), json=forged)
        assert response.status_code == 400, name
        assert response.text != "OK", name
        assert snapshot(record) == pending, name
    assert counter.seen == []
    # The genuine notification still settles it afterwards.
    response = http.post(settings_notify_url(live_urls), json=body)
    assert (response.status_code, response.text) == (200, "OK")
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "notify")


def test_forged_failure_after_success_changes_nothing(customer, live_urls, handled, http):
    """Even a correctly signed later answer cannot change a settled record."""
    from wanxin.bank.processing import notification_body, response_data

    counter = handled("RECHARGE")
    record = recharge_record(live_urls, customer, 20_000)
    finish_at_bank(record)
    outbox.deliver_due()
    settled = snapshot(record)
    late = notification_body("WANXIN", "RECHARGE", response_data(record.request_no, codes.INSUFFICIENT_BALANCE))
    response = http.post(settings_notify_url(live_urls), json=late)
    assert (response.status_code, response.text) == (200, "OK")
    assert snapshot(record) == settled
    assert len(counter.calls_for(record.request_no)) == 1


def test_notification_for_an_unknown_request_is_not_acknowledged(live_urls, http):
    from wanxin.bank.processing import notification_body, response_data

    body = notification_body("WANXIN", "RECHARGE", response_data("NEVER-MADE", codes.SUCCESS))
    response = http.post(settings_notify_url(live_urls), json=body)
    assert response.status_code == 404 and response.text != "OK"
    assert DepositoryRequest.objects.count() == 0


def test_notify_accepts_only_post(live_urls, http):
    assert http.get(settings_notify_url(live_urls)).status_code == 405
