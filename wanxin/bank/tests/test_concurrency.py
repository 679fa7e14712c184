"""Races against the bank over real HTTP on PostgreSQL (PROTOCOL §3, §8).

Each test releases many threads at once (a barrier) at the live server, each with its own
requestNo, and checks that the database — not luck — decided who won: no overdraft, no
freeze spent twice, every loser refused with the right code and nothing moved by it.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from django.db.models import Sum

from wanxin.bank import invariants
from wanxin.bank.models import Account, BalanceChange, BankRequest, Freeze, Transfer
from wanxin.bank.tests.helpers import open_account, recharge
from wanxin.protocol import codes, envelope
from wanxin.testing import fits_connections
from wanxin.testing.bank import bank_balance as balance

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", "bank"]),
]

DB = "bank"


@pytest.fixture(autouse=True)
def fast_trade_passwords(settings):
    # Opening accounts and recharging check a trade password; the hasher is Django's.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def customer(platform_key, user_no: str, n: int, funds: int) -> None:
    assert open_account(platform_key, user_no, id_suffix=f"{n:08d}").status == "SUCCESS"
    if funds:
        assert recharge(platform_key, user_no, funds).status == "SUCCESS"


def race(bank, envelopes: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Post every envelope from its own thread, all released together; verified responses.

    Each thread has its own keep-alive connection, opened one by one beforehand: the test
    server's listen backlog is 10, and the race is meant to be at the bank, not in accept().
    Each thread's request holds one bank connection at the live server.
    """
    fits_connections(len(envelopes), per_thread=1)
    url = f"{bank.base_url}/service"
    clients = [httpx.Client(timeout=60) for _ in envelopes]
    gate = threading.Barrier(len(envelopes))
    retried = []

    def send(client: httpx.Client, env: dict[str, str]) -> dict[str, Any]:
        gate.wait(timeout=60)
        for attempt in range(3):
            try:
                return bank.open(client.post(url, json=env))
            except httpx.TransportError:
                # PROTOCOL §3: resending the same envelope is always safe; at most it
                # returns the stored response of the first attempt.
                if attempt == 2:
                    raise
                retried.append(env)
        raise AssertionError("unreachable")

    try:
        for client in clients:
            assert client.post(url, content=b"warm-up").status_code == 400
        with cf.ThreadPoolExecutor(len(envelopes)) as pool:
            results = list(pool.map(send, clients, envelopes))
    finally:
        for client in clients:
            client.close()
    assert len(retried) <= len(envelopes) // 10, f"{len(retried)} transport retries"
    for env, resp in zip(envelopes, results, strict=True):
        assert resp["requestNo"] == bank_request_no(env)
    return results


def bank_request_no(env: dict[str, str]) -> str:
    return envelope.decode_data(env["reqData"])["requestNo"]


def assert_losers_moved_nothing(results: list[dict[str, Any]]) -> None:
    losers = [r["requestNo"] for r in results if r["respCode"] != codes.SUCCESS]
    reqs = BankRequest.objects.using(DB).filter(request_no__in=losers)
    assert reqs.count() == len(losers), "every refusal is recorded"
    assert set(reqs.values_list("status", "moved_money")) <= {("FAIL", False)}
    assert not Transfer.objects.using(DB).filter(request__in=reqs).exists()
    assert not BalanceChange.objects.using(DB).filter(request__in=reqs).exists()
    assert not Freeze.objects.using(DB).filter(request__in=reqs).exists()


def assert_ledger_sound() -> None:
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
    assert invariants.negative_customers() == 0
    # Every customer's frozen balance is exactly what remains of their open freezes.
    for account in Account.objects.using(DB).filter(kind=Account.Kind.CUSTOMER):
        held = account.freezes.filter(status=Freeze.Status.FROZEN).aggregate(s=Sum("remaining"))["s"] or 0
        assert account.frozen == held, account.account_no


def test_50_simultaneous_freezes_never_overdraw(bank, platform_key):
    customer(platform_key, "race1", 1, 100_000)
    envs = [bank.envelope("USER_PRE_TRANSACTION", {"userNo": "race1", "bizType": "ALLOCATION", "amount": 3_000})
            for _ in range(50)]
    results = race(bank, envs)
    tally = Counter(r["respCode"] for r in results)
    assert tally == {codes.SUCCESS: 33, codes.INSUFFICIENT_BALANCE: 17}, tally
    available, frozen = balance("race1")
    assert (available, frozen) == (1_000, 99_000)
    assert available + frozen == 100_000
    winners = [r["requestNo"] for r in results if r["respCode"] == codes.SUCCESS]
    freezes = Freeze.objects.using(DB).filter(account__account_no="race1")
    assert sorted(freezes.values_list("request__request_no", flat=True)) == sorted(winners)
    assert set(freezes.values_list("amount", "remaining", "status")) == {(3_000, 3_000, "FROZEN")}
    assert_losers_moved_nothing(results)
    assert_ledger_sound()


@pytest.fixture
def tenders(bank, platform_key):
    """Two tender freezes on a collecting project: (inv1, 60,000) and (inv2, 40,000)."""
    customer(platform_key, "inv1", 11, 100_000)
    customer(platform_key, "inv2", 12, 100_000)
    customer(platform_key, "bor1", 13, 0)
    created = bank.call("CREATE_PROJECT", projectNo="P1", borrowerUserNo="bor1", amount=100_000,
                        annualRate="0.120000", periods=3, repaymentMethod="BULLET", name="Race loan")
    assert created["respCode"] == codes.SUCCESS, created
    t1 = bank.call("USER_PRE_TRANSACTION", userNo="inv1", bizType="TENDER", amount=60_000, projectNo="P1")
    t2 = bank.call("USER_PRE_TRANSACTION", userNo="inv2", bizType="TENDER", amount=40_000, projectNo="P1")
    assert t1["respCode"] == t2["respCode"] == codes.SUCCESS
    return t1["requestNo"], t2["requestNo"]


def loan_envelope(bank, t1: str, t2: str) -> dict[str, str]:
    return bank.envelope("CONFIRM_LOAN", {"projectNo": "P1", "commission": 1_000,
                                          "details": [{"preRequestNo": t1, "amount": 60_000},
                                                      {"preRequestNo": t2, "amount": 40_000}]})


def income() -> int:
    row = Account.objects.using(DB).filter(account_no="PLATFORM_INCOME").first()
    return row.available if row else 0


def test_duplicate_confirm_loan_pays_once(bank, tenders):
    t1, t2 = tenders
    results = race(bank, [loan_envelope(bank, t1, t2) for _ in range(20)])
    tally = Counter(r["respCode"] for r in results)
    assert tally == {codes.SUCCESS: 1, codes.FREEZE_NOT_FOUND: 19}, tally
    assert balance("bor1") == (99_000, 0)
    assert balance("inv1") == (40_000, 0) and balance("inv2") == (60_000, 0)
    assert income() == 1_000
    assert set(Freeze.objects.using(DB).values_list("status", "remaining")) == {("POSTED", 0)}
    assert Transfer.objects.using(DB).filter(freeze__isnull=False).aggregate(s=Sum("amount"))["s"] == 100_000
    assert_losers_moved_nothing(results)
    assert_ledger_sound()


def test_duplicate_cancel_releases_once(bank, platform_key):
    customer(platform_key, "alloc1", 21, 80_000)
    freeze = bank.call("USER_PRE_TRANSACTION", userNo="alloc1", bizType="ALLOCATION", amount=50_000)
    assert freeze["respCode"] == codes.SUCCESS
    envs = [bank.envelope("CANCEL_PRE_TRANSACTION", {"preRequestNo": freeze["requestNo"]}) for _ in range(20)]
    results = race(bank, envs)
    tally = Counter(r["respCode"] for r in results)
    assert tally == {codes.SUCCESS: 1, codes.FREEZE_NOT_FOUND: 19}, tally
    [winner] = [r for r in results if r["respCode"] == codes.SUCCESS]
    assert winner["amount"] == 50_000
    assert balance("alloc1") == (80_000, 0)
    assert Freeze.objects.using(DB).get().status == "VOIDED"
    assert_losers_moved_nothing(results)
    assert_ledger_sound()


def test_confirm_loan_racing_cancel_has_one_winner(bank, tenders):
    """Cancels of one tender and loans using it: either the loan or one cancel, never both."""
    t1, t2 = tenders
    envs = [loan_envelope(bank, t1, t2) for _ in range(10)]
    envs += [bank.envelope("CANCEL_PRE_TRANSACTION", {"preRequestNo": t1}) for _ in range(10)]
    results = race(bank, envs)
    tally = Counter(r["respCode"] for r in results)
    assert tally == {codes.SUCCESS: 1, codes.FREEZE_NOT_FOUND: 19}, tally
    loan_won = results.index(next(r for r in results if r["respCode"] == codes.SUCCESS)) < 10
    if loan_won:
        assert balance("bor1") == (99_000, 0)
        assert balance("inv1") == (40_000, 0) and balance("inv2") == (60_000, 0)
        assert income() == 1_000
    else:
        assert balance("bor1") == (0, 0)
        assert balance("inv1") == (100_000, 0) and balance("inv2") == (60_000, 40_000)
        assert dict(Freeze.objects.using(DB).values_list("request__request_no", "status")) == {
            t1: "VOIDED", t2: "FROZEN"}
    assert_losers_moved_nothing(results)
    assert_ledger_sound()


@pytest.mark.parametrize(
    "each, wins, loser_code, left",
    [
        (7_000, 14, codes.AMOUNTS_MISMATCH, 2_000),  # 2,000 stays frozen: not enough for a post
        (10_000, 10, codes.FREEZE_NOT_FOUND, 0),  # the freeze is used up: not frozen any more
    ],
)
def test_partial_posts_never_exceed_the_freeze(bank, platform_key, each, wins, loser_code, left):
    customer(platform_key, "alloc2", 31, 150_000)
    freeze = bank.call("USER_PRE_TRANSACTION", userNo="alloc2", bizType="ALLOCATION", amount=100_000)
    assert freeze["respCode"] == codes.SUCCESS
    envs = [bank.envelope("TRANSFER", {"bizType": "ALLOCATION_FEE", "payer": "alloc2", "payee": "PLATFORM_INCOME",
                                       "amount": each, "preRequestNo": freeze["requestNo"]})
            for _ in range(20)]
    results = race(bank, envs)
    tally = Counter(r["respCode"] for r in results)
    assert tally == {codes.SUCCESS: wins, loser_code: 20 - wins}, tally
    posted = Transfer.objects.using(DB).filter(freeze__request__request_no=freeze["requestNo"])
    assert posted.aggregate(s=Sum("amount"))["s"] == wins * each <= 100_000
    f = Freeze.objects.using(DB).get(request__request_no=freeze["requestNo"])
    assert (f.remaining, f.status) == (left, "FROZEN" if left else "POSTED")
    assert balance("alloc2") == (50_000, left)
    assert income() == wins * each
    assert_losers_moved_nothing(results)
    assert_ledger_sound()


def test_partial_posts_racing_a_cancel_account_for_every_fen(bank, platform_key):
    customer(platform_key, "alloc3", 41, 100_000)
    freeze = bank.call("USER_PRE_TRANSACTION", userNo="alloc3", bizType="ALLOCATION", amount=90_000)
    assert freeze["respCode"] == codes.SUCCESS
    envs = [bank.envelope("TRANSFER", {"bizType": "ALLOCATION_FEE", "payer": "alloc3", "payee": "PLATFORM_INCOME",
                                       "amount": 8_000, "preRequestNo": freeze["requestNo"]})
            for _ in range(15)]
    envs.insert(7, bank.envelope("CANCEL_PRE_TRANSACTION", {"preRequestNo": freeze["requestNo"]}))
    results = race(bank, envs)
    cancel = results[7]
    posts = results[:7] + results[8:]
    assert cancel["respCode"] == codes.SUCCESS, cancel  # the freeze never runs out before 11 posts
    paid = sum(8_000 for r in posts if r["respCode"] == codes.SUCCESS)
    assert paid + cancel["amount"] == 90_000
    # A post that lost finds the freeze voided (30010) or with too little left in it (30011).
    assert {r["respCode"] for r in posts} <= {codes.SUCCESS, codes.FREEZE_NOT_FOUND, codes.AMOUNTS_MISMATCH}
    assert balance("alloc3") == (10_000 + cancel["amount"], 0)
    assert income() == paid
    assert Freeze.objects.using(DB).get(request__request_no=freeze["requestNo"]).status == "VOIDED"
    assert_losers_moved_nothing(results)
    assert_ledger_sound()
