"""The BATCH service (PROTOCOL §5a) over real HTTP: each item gets exactly the result it
would have had alone, the batch is idempotent as a whole and per item, shape problems
refuse the whole batch and record nothing, and concurrent batches neither deadlock nor
break the ledger."""

from __future__ import annotations

import concurrent.futures as cf
import json
import re
import time
from typing import Any

import httpx
import pytest
from django.conf import settings

from wanxin.bank import invariants, statements
from wanxin.bank.models import Account, BankRequest, Freeze
from wanxin.bank.tests.helpers import open_account, recharge
from wanxin.protocol import codes, envelope
from wanxin.testing import fits_connections
from wanxin.testing.bank import bank_balance as balance

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
DB = "bank"


@pytest.fixture(autouse=True)
def fast_trade_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def customer(platform_key, user_no: str, n: int, funds: int) -> None:
    assert open_account(platform_key, user_no, id_suffix=f"{n:08d}").status == "SUCCESS"
    if funds:
        assert recharge(platform_key, user_no, funds).status == "SUCCESS"


def recorded() -> int:
    return BankRequest.objects.using(DB).count()


def assert_ledger_sound() -> None:
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
    assert invariants.negative_customers() == 0


def batch_items(items: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"serviceName": service, "data": data} for service, data in items]


def send_batch(bank, request_no: str, items: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return bank.call("BATCH", requestNo=request_no, items=batch_items(items))


def scenario(side: str) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
    """(earlier requests, the main list) for one side of the twin comparison: customers
    ``{side}u1``/``{side}u2``, requestNos ``{side}r…``; everything else identical."""
    u1, u2 = f"{side}u1", f"{side}u2"

    def r(n: str) -> str:
        return f"{side}r{n}"

    def freeze(user: str, amount: Any) -> dict[str, Any]:
        return {"userNo": user, "bizType": "ALLOCATION", "amount": amount}

    earlier = [("USER_PRE_TRANSACTION", {"requestNo": r("x"), **freeze(u2, 50)}),
               ("USER_PRE_TRANSACTION", {"requestNo": r("y"), **freeze(u2, 60)})]
    main = [
        ("USER_PRE_TRANSACTION", {"requestNo": r("1"), **freeze(u1, 300)}),              # succeeds
        ("USER_PRE_TRANSACTION", {"requestNo": r("2"), **freeze(u1, 10**9)}),            # 30042
        ("USER_PRE_TRANSACTION", {"requestNo": r("3"), **freeze(f"{side}nobody", 5)}),   # 30001
        ("TRANSFER", {"requestNo": r("4"), "bizType": "ALLOCATION_FEE", "payer": u1, "payee": "PLATFORM_INCOME",
                      "amount": 100, "preRequestNo": r("1")}),                           # sees item 1
        ("TRANSFER", {"requestNo": r("4b"), "bizType": "ALLOCATION_FEE", "payer": u1, "payee": "PLATFORM_INCOME",
                      "amount": 250, "preRequestNo": r("1")}),                           # 30011: 200 left
        ("USER_PRE_TRANSACTION", {"requestNo": r("4c"), "userNo": u1, "bizType": "TENDER", "amount": 5,
                                  "projectNo": f"{side}pz"}),                            # 30020: no project
        ("CANCEL_PRE_TRANSACTION", {"requestNo": r("5"), "preRequestNo": r("1")}),       # releases 200
        ("CANCEL_PRE_TRANSACTION", {"requestNo": r("6"), "preRequestNo": r("1")}),       # 30010 now
        ("QUERY_BALANCE", {"requestNo": r("7"), "userNo": u1}),
        ("QUERY_REQUEST", {"requestNo": r("8"), "queryRequestNo": r("1")}),
        ("QUERY_REQUEST", {"requestNo": r("9"), "queryRequestNo": r("10")}),             # 30404: later
        ("USER_PRE_TRANSACTION", {"requestNo": r("10"), **freeze(u2, 70)}),
        ("TRANSFER", {"requestNo": r("10b"), "bizType": "ALLOCATION_FEE", "payer": u1, "payee": "PLATFORM_INCOME",
                      "amount": 70, "preRequestNo": r("10")}),                           # 30010: u2's freeze
        ("USER_PRE_TRANSACTION", {"requestNo": r("x"), **freeze(u2, 50)}),               # repeat: stored
        ("USER_PRE_TRANSACTION", {"requestNo": r("y"), **freeze(u2, 61)}),               # other data: 00006
        ("USER_PRE_TRANSACTION", {"requestNo": r("11"), **freeze(u1, "100")}),           # bad field: 00003
        ("TRANSFER", {"requestNo": r("12"), "bizType": "ALLOCATION_FEE", "payer": u1, "payee": "PLATFORM_INCOME",
                      "amount": 100, "preRequestNo": r("2")}),                           # 30010: 2 failed
    ]
    return earlier, main


def normalised(results: list[dict[str, Any]], side: str) -> list[dict[str, Any]]:
    text = json.dumps(results, sort_keys=True)
    return json.loads(re.sub(rf'"{side}(u1|u2|nobody|r)', r'"\1', text).replace(f" {side}", " "))


def test_each_item_gets_exactly_its_result_alone(bank, platform_key):
    customer(platform_key, "Su1", 1, 10_000)
    customer(platform_key, "Su2", 2, 10_000)
    customer(platform_key, "Bu1", 3, 10_000)
    customer(platform_key, "Bu2", 4, 10_000)

    # Twin S: every request alone, each over its own signed envelope; the repeat resends
    # the very same envelope (§3), the reuse sends other data under the same requestNo.
    earlier, main = scenario("S")
    envs = {}
    for service, data in earlier:
        envs[data["requestNo"]] = bank.envelope(service, data)
        assert bank.open(bank.post(envs[data["requestNo"]]))["respCode"] == codes.SUCCESS
    alone = []
    for service, data in main:
        env = envs.get(data["requestNo"]) if data["requestNo"] == "Srx" else bank.envelope(service, data)
        alone.append(bank.open(bank.post(env)))

    # Twin B: the earlier requests in one batch, the main list in another.
    earlier, main = scenario("B")
    first = send_batch(bank, "Bbatch0", earlier)
    assert [r["respCode"] for r in first["results"]] == [codes.SUCCESS, codes.SUCCESS]
    batched = send_batch(bank, "Bbatch1", main)
    assert batched["respCode"] == codes.SUCCESS and batched["requestNo"] == "Bbatch1"

    assert [r["respCode"] for r in batched["results"]] == [
        "00000", "30042", "30001", "00000", "30011", "30020", "00000", "30010", "00000", "00000", "30404", "00000",
        "30010", "00000", "00006", "00003", "30010"]
    assert normalised(batched["results"], "B") == normalised(alone, "S")
    assert batched["results"][8]["available"] == 10_000 - 100  # the query saw items 1, 4 and 5
    assert balance("Bu1") == balance("Su1") == (9_900, 0)
    assert balance("Bu2") == balance("Su2") == (10_000 - 50 - 60 - 70, 180)
    # The bad item was not recorded (it may be fixed and sent again); the refusals were.
    assert not BankRequest.objects.using(DB).filter(request_no__in=["Br11", "Sr11"]).exists()
    assert BankRequest.objects.using(DB).get(request_no="Br2").resp_code == codes.INSUFFICIENT_BALANCE
    # Statement rows are the items' own, under their own requestNos; the batch has none.
    assert BankRequest.objects.using(DB).get(request_no="Bbatch1").moved_money is False
    moved = set(BankRequest.objects.using(DB).filter(moved_money=True, request_no__startswith="B")
                .values_list("request_no", flat=True))
    assert moved == {"Brx", "Bry", "Br1", "Br4", "Br5", "Br10"}
    content, _ = statements.render(settings.PLATFORM_NO, BankRequest.objects.using(DB)
                                   .get(request_no="Br1").finished_at.astimezone().date())
    assert "\nBr4,TRANSFER,ALLOCATION_FEE,Bu1,PLATFORM_INCOME,100," in content
    assert_ledger_sound()


def plain_transfers(side: str) -> list[tuple[str, dict[str, Any]]]:
    """Plain TRANSFERs from customers to a platform account (the fee runs' charges, on the
    fast path) between items that change what they see."""
    u1 = f"{side}u1"

    def fee(n: str, payer: str, amount: int, **change: Any) -> tuple[str, dict[str, Any]]:
        return ("TRANSFER", {"requestNo": f"{side}p{n}", "bizType": "ALLOCATION_FEE", "payer": payer,
                             "payee": "PLATFORM_INCOME", "amount": amount, **change})

    return [
        fee("1", u1, 400),                                                                 # succeeds
        ("USER_PRE_TRANSACTION", {"requestNo": f"{side}p2", "userNo": u1, "bizType": "ALLOCATION",
                                  "amount": 500}),                                         # leaves 100
        fee("3", u1, 101),                                                                 # 30042
        fee("4", u1, 100),                                                                 # all that is left
        fee("5", f"{side}u3", 1),                                                          # 30002
        fee("6", f"{side}nobody", 1),                                                      # 30001
        fee("7", u1, 1, payee="PLATFORM_CAPITAL", bizType="ALLOCATION_SETTLE"),            # 30042: nothing left
        ("TRANSFER", {"requestNo": f"{side}p8", "bizType": "COMPENSATION", "payer": "PLATFORM_INCOME",
                      "payee": u1, "amount": 50}),                                         # the slow path
        fee("9", u1, 50),                                                                  # sees item 8
    ]


def test_plain_transfers_on_the_fast_path_get_exactly_their_result_alone(bank, platform_key):
    for side, n in (("S", 11), ("B", 13)):
        customer(platform_key, f"{side}u1", n, 1_000)
        assert open_account(platform_key, f"{side}u3", auth=["TENDER"], id_suffix=f"{n + 1:08d}").status == "SUCCESS"
    alone = [bank.call(service, **data) for service, data in plain_transfers("S")]
    batched = send_batch(bank, "Bplain", plain_transfers("B"))

    assert [r["respCode"] for r in batched["results"]] == [
        "00000", "00000", "30042", "00000", "30002", "30001", "30042", "00000", "00000"]
    def unsided(results: list[dict[str, Any]], side: str) -> Any:
        return json.loads(re.sub(rf'(?<=["\s]){side}(?=u1|u3|nobody|p\d)', "", json.dumps(results, sort_keys=True)))

    assert unsided(batched["results"], "B") == unsided(alone, "S")
    assert balance("Bu1") == balance("Su1") == (0, 500)
    again = send_batch(bank, "Bplain2", plain_transfers("B")[:1])  # a repeat in another batch: stored
    assert again["results"] == batched["results"][:1] and balance("Bu1") == (0, 500)
    rows = {r: list(BankRequest.objects.using(DB).filter(request_no=f"{r}p4").values_list(
        "biz_type", "user_no", "counterparty", "amount", "moved_money")) for r in "SB"}
    assert rows["B"] == [("ALLOCATION_FEE", "Bu1", "PLATFORM_INCOME", 100, True)]
    assert rows["S"] == [("ALLOCATION_FEE", "Su1", "PLATFORM_INCOME", 100, True)]
    assert_ledger_sound()


def shape_refusal(bank, items: Any, request_no: str = "shape-b") -> dict[str, Any]:
    before = recorded()
    resp = bank.call("BATCH", requestNo=request_no, items=items)
    assert resp["respCode"] == codes.INVALID_PARAMS, resp
    assert resp["requestNo"] == request_no
    assert recorded() == before, "nothing is recorded for a refused batch"
    return resp


def freeze_item(request_no: str, user: str = "sh1", amount: int = 10) -> dict[str, Any]:
    return {"serviceName": "USER_PRE_TRANSACTION",
            "data": {"requestNo": request_no, "userNo": user, "bizType": "ALLOCATION", "amount": amount}}


def test_shape_problems_refuse_the_whole_batch_and_record_nothing(bank, platform_key):
    customer(platform_key, "sh1", 6, 100_000)
    assert "1 to 1000" in shape_refusal(bank, [])["respMsg"]
    too_many = [freeze_item(f"sh-{n}", amount=1) for n in range(1001)]
    assert "1 to 1000" in shape_refusal(bank, too_many)["respMsg"]
    assert "twice" in shape_refusal(bank, [freeze_item("sh-a"), freeze_item("sh-b"), freeze_item("sh-a")])["respMsg"]
    nested = {"serviceName": "BATCH", "data": {"requestNo": "sh-n", "items": [freeze_item("sh-c")]}}
    assert "cannot contain a BATCH" in shape_refusal(bank, [freeze_item("sh-d"), nested])["respMsg"]
    for service in ("CREATE_PROJECT", "DOWNLOAD_STATEMENT", "RECHARGE", "NO_SUCH_SERVICE"):
        shape_refusal(bank, [{"serviceName": service, "data": {"requestNo": "sh-e"}}])
    shape_refusal(bank, [{"serviceName": "QUERY_BALANCE", "data": {"requestNo": "sh-f", "userNo": "sh1"},
                          "extra": 1}])
    shape_refusal(bank, [freeze_item("shape-b")])  # an item cannot reuse the batch's requestNo
    assert balance("sh1") == (100_000, 0)
    # Nothing was recorded: the same batch requestNo now works with fixed items; 1,000 is fine.
    exactly = [freeze_item(f"sh-{n}", amount=1) for n in range(1000)]
    ok = bank.call("BATCH", requestNo="shape-b", items=exactly)
    assert ok["respCode"] == codes.SUCCESS
    assert {r["respCode"] for r in ok["results"]} == {codes.SUCCESS} and len(ok["results"]) == 1000
    assert balance("sh1") == (99_000, 1_000)
    assert_ledger_sound()


def test_item_with_bad_fields_gets_its_own_00003_and_timestamp_is_the_batchs(bank, platform_key):
    customer(platform_key, "bf1", 7, 1_000)
    items = [freeze_item("bf-1", "bf1"),
             {"serviceName": "USER_PRE_TRANSACTION",
              "data": {"requestNo": "bf-2", "userNo": "bf1", "bizType": "ALLOCATION", "amount": 5,
                       "timestamp": int(time.time() * 1000)}},
             {"serviceName": "QUERY_BALANCE", "data": {"userNo": "bf1"}},
             {"serviceName": "TRANSFER", "data": {"requestNo": "bf-4", "bizType": "ALLOCATION_FEE", "payer": "bf1",
                                                  "payee": "bf1", "amount": 5}},
             freeze_item("bf-5", "bf1", 1.5)]
    resp = bank.call("BATCH", requestNo="bf-b", items=items)
    assert [(r["requestNo"], r["respCode"]) for r in resp["results"]] == [
        ("bf-1", "00000"), ("bf-2", "00003"), ("", "00003"), ("bf-4", "00003"), ("bf-5", "00003")]
    assert "timestamp" in resp["results"][1]["respMsg"]
    assert set(BankRequest.objects.using(DB).values_list("request_no", flat=True)) >= {"bf-1", "bf-b"}
    assert not BankRequest.objects.using(DB).filter(request_no__in=["bf-2", "bf-4", "bf-5"]).exists()
    assert balance("bf1") == (990, 10)


def test_concurrent_batches_on_the_same_accounts_neither_deadlock_nor_break_the_ledger(bank, platform_key):
    users = [f"cc{n}" for n in range(4)]
    for n, user in enumerate(users):
        customer(platform_key, user, 20 + n, 50_000)
    senders, rounds = 6, 3
    fits_connections(senders, per_thread=2)

    def items_for(s: int, k: int) -> list[tuple[str, dict[str, Any]]]:
        # Each sender walks the accounts in its own order: freeze, pay part out, cancel.
        order = users[s % 4:] + users[:s % 4]
        if s % 2:
            order.reverse()
        items: list[tuple[str, dict[str, Any]]] = []
        for user in order:
            f = f"cc-s{s}k{k}-{user}"
            items += [("USER_PRE_TRANSACTION", {"requestNo": f, "userNo": user, "bizType": "ALLOCATION",
                                                "amount": 700}),
                      ("TRANSFER", {"requestNo": f + "-t", "bizType": "ALLOCATION_FEE", "payer": user,
                                    "payee": "PLATFORM_INCOME", "amount": 200, "preRequestNo": f}),
                      ("TRANSFER", {"requestNo": f + "-c", "bizType": "COMPENSATION", "payer": "PLATFORM_INCOME",
                                    "payee": order[-1], "amount": 100})]
            if s % 3 == 0:
                items.append(("CANCEL_PRE_TRANSACTION", {"requestNo": f + "-v", "preRequestNo": f}))
        return items

    def sender(s: int) -> list[dict[str, Any]]:
        out = []
        with httpx.Client(timeout=120) as http:
            for k in range(rounds):
                env = bank.envelope("BATCH", {"requestNo": f"cc-b{s}k{k}", "items": batch_items(items_for(s, k))})
                out.append(envelope.open_response(bank.bank_key, http.post(f"{bank.base_url}/service",
                                                                           json=env).json()))
        return out

    with cf.ThreadPoolExecutor(senders) as pool:
        answers = [a for batch in pool.map(sender, range(senders)) for a in batch]
    assert [a["respCode"] for a in answers] == [codes.SUCCESS] * senders * rounds, [a["respMsg"] for a in answers]
    results = [r for a in answers for r in a["results"]]
    # Each customer freezes 700 per sender and round and pays 200 of it out; the platform
    # pays 100 back per item group. Compensation may find PLATFORM_INCOME short early on.
    assert {r["respCode"] for r in results} <= {codes.SUCCESS, codes.INSUFFICIENT_BALANCE}
    assert all(r["respCode"] == codes.SUCCESS for r in results if not r["requestNo"].endswith("-c"))
    still_frozen = sum(Freeze.objects.using(DB).filter(status="FROZEN").values_list("remaining", flat=True))
    assert still_frozen == sum(Account.objects.using(DB).filter(kind="CUSTOMER").values_list("frozen", flat=True))
    assert still_frozen == 500 * 4 * rounds * sum(1 for s in range(senders) if s % 3)
    assert_ledger_sound()
