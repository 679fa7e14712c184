"""The platform's BATCH helper (``BankClient.send_batch``, PROTOCOL §5a) against the real
bank over HTTP: a batch sent twice moves nothing again, items replay on their own, and
QUERY_REQUEST finds items and the batch."""

from __future__ import annotations

import pytest

from wanxin.bank import invariants
from wanxin.bank.models import BalanceChange, BankRequest
from wanxin.bank.tests.helpers import open_account, recharge
from wanxin.depository.client import batch_items, get_client
from wanxin.protocol import codes
from wanxin.protocol.codes import ProtocolError
from wanxin.testing.bank import bank_balance as balance

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
DB = "bank"


@pytest.fixture(autouse=True)
def fast_trade_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def customer(platform_key, user_no: str, n: int, funds: int) -> None:
    assert open_account(platform_key, user_no, id_suffix=f"{n:08d}").status == "SUCCESS"
    assert recharge(platform_key, user_no, funds).status == "SUCCESS"


def recorded() -> int:
    return BankRequest.objects.using(DB).count()


def assert_ledger_sound() -> None:
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []


def test_batch_sent_twice_moves_nothing_again_and_is_queryable(bank, platform_key, live_urls):
    customer(platform_key, "tw1", 5, 10_000)
    client = get_client()
    items = [("USER_PRE_TRANSACTION", {"requestNo": f"tw-f{n}", "userNo": "tw1", "bizType": "ALLOCATION",
                                       "amount": 1_000}) for n in range(3)]
    items.append(("TRANSFER", {"requestNo": "tw-t", "bizType": "ALLOCATION_FEE", "payer": "tw1",
                               "payee": "PLATFORM_INCOME", "amount": 400, "preRequestNo": "tw-f0"}))
    # "Sent twice" is the same envelope twice, as the client's own retries send it (§3).
    env = client.envelope("BATCH", {"requestNo": "tw-batch", "items": batch_items(items)}).as_dict()
    first = bank.open(bank.post(env))["results"]
    assert [r["respCode"] for r in first] == [codes.SUCCESS] * 4
    after_first = (balance("tw1"), BalanceChange.objects.using(DB).count(), recorded())
    again = bank.open(bank.post(env))["results"]
    assert again == first
    assert (balance("tw1"), BalanceChange.objects.using(DB).count(), recorded()) == after_first
    assert balance("tw1") == (7_000, 2_600)
    # The same items under a new batch requestNo: each replays its stored result.
    assert client.send_batch("tw-batch2", items) == first
    assert balance("tw1") == (7_000, 2_600)
    # QUERY_REQUEST: on an item as on any request, on the batch its stored response.
    item = client.send("QUERY_REQUEST", {"requestNo": "tw-q1", "queryRequestNo": "tw-f1"})
    assert item["result"] == first[1] and item["serviceName"] == "USER_PRE_TRANSACTION"
    whole = client.send("QUERY_REQUEST", {"requestNo": "tw-q2", "queryRequestNo": "tw-batch"})
    assert whole["serviceName"] == "BATCH" and whole["result"]["results"] == first
    # The same batch requestNo with other data (other items, or only a new timestamp) is
    # 00006, and nothing moves: a sender that rebuilds a batch sends it under a new requestNo.
    for other in (items[:2], items):
        with pytest.raises(ProtocolError) as refused:
            client.send_batch("tw-batch", other)
        assert refused.value.code == codes.REQUEST_NO_REUSED
    assert balance("tw1") == (7_000, 2_600)
    assert_ledger_sound()
