"""Issue 9, hole 1, as the attacker did it against a running site: the bank's signed refusal
of an unverifiable request naming a customer's pending recharge, posted to the platform's
notify endpoint. It is refused and changes nothing; the customer's own confirmation at the
bank afterwards completes normally (record, fund record and mirror all right)."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request

import pytest

from wanxin.bank import invariants
from wanxin.depository.models import DepositoryRequest, IgnoredBankResult
from wanxin.funds import services
from wanxin.funds.models import DepositoryAccount
from wanxin.protocol import codes, envelope

from .conftest import at_bank, bank_balance, deliver, open_account, records_of, state

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def post_json(url: str, body: dict) -> tuple[int, str]:
    """The attacker's HTTP client (stdlib: only the depository app may import httpx)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_forged_final_result_through_notify_is_refused_and_the_real_one_completes(live, customer):
    account = open_account(customer)
    record = services.recharge_start(user=customer, amount=123_400)
    before = state(customer)

    req_data = envelope.encode_data({"requestNo": record.request_no, "timestamp": int(time.time() * 1000)})
    status, text = post_json(f"{live}/bank/service", {
        "serviceName": "RECHARGE", "platformNo": "WANXIN", "reqData": req_data,
        "signature": base64.b64encode(b"garbage-signature").decode()})
    assert status == 200
    signed_refusal = json.loads(text)
    assert envelope.decode_data(signed_refusal["respData"])["requestNo"] == record.request_no
    status, text = post_json(f"{live}/api/v1/depository/notify",
                             {"serviceName": "NOTIFY", "platformNo": "WANXIN", **signed_refusal})
    assert status == 400 and text != "OK"
    assert state(customer) == before
    assert DepositoryRequest.objects.get(pk=record.pk).status == "PENDING"
    assert IgnoredBankResult.objects.filter(request_no=record.request_no, reason="RESPONSE_REPLAYED").count() == 1

    # The customer confirms at the bank: the money arrives and the platform says so.
    assert at_bank(record).resp_code == codes.SUCCESS
    assert deliver() == 1
    record.refresh_from_db()
    assert (record.status, record.applied_from) == ("SUCCESS", "notify")
    assert records_of(customer) == [("RECHARGE", 123_400, 123_400, record.request_no)]
    mirror = DepositoryAccount.objects.values_list("available", "frozen").get(pk=account.pk)
    assert mirror == bank_balance(account.user_no) == (123_400, 0)
    assert invariants.total_balance() == 0
