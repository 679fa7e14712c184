"""PROTOCOL §2–§4 and §7 over real HTTP (live server)."""

from __future__ import annotations

import base64
import concurrent.futures as cf
import datetime as dt
import hashlib
import time

import pytest
from django.utils import timezone

from wanxin.bank import invariants
from wanxin.bank.models import Account, BankRequest, Freeze
from wanxin.bank.tests.helpers import open_account, recharge
from wanxin.core.ids import new_request_no
from wanxin.protocol import codes, envelope, signing
from wanxin.testing.bank import bank_balance as balance

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


@pytest.fixture
def funded(bank, platform_key):
    """Two open, funded customers and a collecting project."""
    assert open_account(platform_key, "inv1", id_suffix="00000011").status == "SUCCESS"
    assert open_account(platform_key, "inv2", id_suffix="00000022").status == "SUCCESS"
    assert open_account(platform_key, "bor1", id_suffix="00000033").status == "SUCCESS"
    assert recharge(platform_key, "inv1", 1_000_000).status == "SUCCESS"
    assert recharge(platform_key, "inv2", 500_000).status == "SUCCESS"
    resp = bank.call("CREATE_PROJECT", projectNo="P1", borrowerUserNo="bor1", amount=1_000_000,
                     annualRate="0.120000", periods=12, repaymentMethod="EQUAL_INSTALLMENT", name="Loan one")
    assert resp["respCode"] == codes.SUCCESS, resp
    return bank


def recorded() -> int:
    return BankRequest.objects.using("bank").count()


def assert_ledger_sound():
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
    assert invariants.negative_customers() == 0


def test_envelope_shape_errors_are_http_400(bank):
    for body in (b"not json", b"[]", b'{"serviceName": "QUERY_BALANCE"}'):
        assert bank.post(body).status_code == 400
    env = bank.envelope("QUERY_BALANCE", {"userNo": "x"}, platformNo="NOBODY")
    response = bank.post(env)
    assert response.status_code == 400
    assert "platformNo" in response.json()["error"]
    assert bank.post(b"{" + b" " * 300_000 + b"}").status_code == 400


def test_tampered_and_foreign_signatures_are_00004_and_not_recorded(funded):
    before = recorded()
    env = funded.envelope("QUERY_BALANCE", {"userNo": "inv1"})
    tampered = envelope.encode_data({**envelope.decode_data(env["reqData"]), "userNo": "inv2"})
    resp = funded.open(funded.post({**env, "reqData": tampered}))
    assert (resp["respCode"], resp["status"]) == (codes.BAD_SIGNATURE, "FAIL")
    other = signing.generate_private_key()
    forged = {**env, "signature": signing.sign(other, env["reqData"])}
    assert funded.open(funded.post(forged))["respCode"] == codes.BAD_SIGNATURE
    assert recorded() == before
    # The same requestNo, correctly signed, still works: refusals are not recorded.
    assert funded.open(funded.post(env))["respCode"] == codes.SUCCESS


def test_timestamp_301_seconds_off_is_00005(funded):
    before = recorded()
    for off in (301_000, -301_000):
        env = funded.envelope("QUERY_BALANCE", {"userNo": "inv1", "timestamp": int(time.time() * 1000) - off})
        resp = funded.open(funded.post(env))
        assert resp["respCode"] == codes.BAD_TIMESTAMP
    assert recorded() == before


@pytest.mark.parametrize(
    "req_data, message",
    [
        ("%%%notbase64", "base64"),
        (base64.b64encode(b"\xc3\x28").decode(), "UTF-8"),
        (base64.b64encode(b"{broken").decode(), "JSON"),
    ],
)
def test_broken_req_data_is_00003(bank, platform_key, req_data, message):
    env = {"serviceName": "QUERY_BALANCE", "platformNo": "WANXIN", "reqData": req_data,
           "signature": signing.sign(platform_key, req_data)}
    resp = bank.open(bank.post(env))
    assert resp["respCode"] == codes.INVALID_PARAMS
    assert message in resp["respMsg"]


@pytest.mark.parametrize("amount", [0, -100, 1.5, "100", 10**16, None, True])
def test_bad_amounts_are_00003_and_change_nothing(funded, amount):
    before, rows = balance("inv1"), recorded()
    resp = funded.call("USER_PRE_TRANSACTION", userNo="inv1", bizType="TENDER", amount=amount, projectNo="P1")
    assert resp["respCode"] == codes.INVALID_PARAMS
    assert "amount" in resp["respMsg"]
    assert balance("inv1") == before and recorded() == rows


def test_gateway_service_on_direct_api_is_refused(bank):
    resp = bank.call("RECHARGE", userNo="u", amount=1, callbackUrl="http://x/")
    assert resp["respCode"] == codes.INVALID_PARAMS


def test_reused_request_no_with_other_data_is_00006(funded):
    request_no = new_request_no("T")
    first = funded.call("USER_PRE_TRANSACTION", requestNo=request_no, userNo="inv1", bizType="TENDER",
                        amount=1000, projectNo="P1")
    assert first["respCode"] == codes.SUCCESS
    again = funded.call("USER_PRE_TRANSACTION", requestNo=request_no, userNo="inv1", bizType="TENDER",
                        amount=2000, projectNo="P1")
    assert again["respCode"] == codes.REQUEST_NO_REUSED
    assert balance("inv1") == (999_000, 1000)


def test_same_request_from_20_threads_has_one_effect(funded):
    env = funded.envelope("USER_PRE_TRANSACTION", {"userNo": "inv1", "bizType": "TENDER", "amount": 12_345,
                                                   "projectNo": "P1"})
    with cf.ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(lambda _: funded.post(env).json(), range(20)))
    assert all(b == bodies[0] for b in bodies), "20 identical signed responses"
    assert envelope.decode_data(bodies[0]["respData"])["respCode"] == codes.SUCCESS
    assert balance("inv1") == (1_000_000 - 12_345, 12_345)
    assert Freeze.objects.using("bank").count() == 1
    assert_ledger_sound()


def test_every_business_code(funded):
    call = funded.call
    assert call("QUERY_BALANCE", userNo="ghost")["respCode"] == codes.ACCOUNT_NOT_FOUND
    assert call("USER_PRE_TRANSACTION", userNo="ghost", bizType="ALLOCATION", amount=1)["respCode"] == codes.ACCOUNT_NOT_FOUND
    assert call("USER_PRE_TRANSACTION", userNo="inv1", bizType="TENDER", amount=1,
                projectNo="NOPE")["respCode"] == codes.PROJECT_STATE
    assert call("USER_PRE_TRANSACTION", userNo="inv2", bizType="TENDER", amount=500_001,
                projectNo="P1")["respCode"] == codes.INSUFFICIENT_BALANCE
    assert call("CANCEL_PRE_TRANSACTION", preRequestNo="nothing")["respCode"] == codes.FREEZE_NOT_FOUND
    assert call("QUERY_REQUEST", queryRequestNo="never-sent")["respCode"] == codes.QUERY_UNKNOWN
    assert call("CREATE_PROJECT", projectNo="P1", borrowerUserNo="bor1", amount=1, annualRate="0.1", periods=1,
                repaymentMethod="BULLET", name="dup")["respCode"] == codes.PROJECT_STATE
    # 30002: a customer who did not authorise TENDER.
    assert open_account(funded.private_key, "shy", auth=[], id_suffix="00000044").status == "SUCCESS"
    assert recharge(funded.private_key, "shy", 10_000).status == "SUCCESS"
    assert call("USER_PRE_TRANSACTION", userNo="shy", bizType="TENDER", amount=100,
                projectNo="P1")["respCode"] == codes.NOT_AUTHORISED
    # 30010 / 30011 on CONFIRM_LOAN, all or nothing.
    t1 = call("USER_PRE_TRANSACTION", userNo="inv1", bizType="TENDER", amount=600_000, projectNo="P1")
    t2 = call("USER_PRE_TRANSACTION", userNo="inv2", bizType="TENDER", amount=400_000, projectNo="P1")
    wrong_amount = call("CONFIRM_LOAN", projectNo="P1", commission=0,
                        details=[{"preRequestNo": t1["requestNo"], "amount": 600_000},
                                 {"preRequestNo": t2["requestNo"], "amount": 399_999}])
    assert wrong_amount["respCode"] == codes.AMOUNTS_MISMATCH
    unknown = call("CONFIRM_LOAN", projectNo="P1", commission=0,
                   details=[{"preRequestNo": t1["requestNo"], "amount": 600_000},
                            {"preRequestNo": "nope", "amount": 1}])
    assert unknown["respCode"] == codes.FREEZE_NOT_FOUND
    assert balance("inv1") == (400_000, 600_000) and balance("bor1") == (0, 0)
    assert call("MODIFY_PROJECT", projectNo="P1", status="FINISHED")["respCode"] == codes.PROJECT_STATE
    assert call("MODIFY_PROJECT", projectNo="P1", status="FULL")["respCode"] == codes.SUCCESS
    loan = call("CONFIRM_LOAN", projectNo="P1", commission=20_000,
                details=[{"preRequestNo": t1["requestNo"], "amount": 600_000},
                         {"preRequestNo": t2["requestNo"], "amount": 400_000}])
    assert loan["respCode"] == codes.SUCCESS, loan
    assert balance("bor1") == (980_000, 0)
    assert balance("inv1") == (400_000, 0) and balance("inv2") == (100_000, 0)
    assert call("QUERY_BALANCE", userNo="PLATFORM_INCOME")["available"] == 20_000
    assert_ledger_sound()


def test_repayment_pays_every_investor_exactly(funded):
    call = funded.call
    t1 = call("USER_PRE_TRANSACTION", userNo="inv1", bizType="TENDER", amount=700_000, projectNo="P1")
    t2 = call("USER_PRE_TRANSACTION", userNo="inv2", bizType="TENDER", amount=300_000, projectNo="P1")
    call("MODIFY_PROJECT", projectNo="P1", status="FULL")
    assert call("CONFIRM_LOAN", projectNo="P1", commission=0,
                details=[{"preRequestNo": t1["requestNo"], "amount": 700_000},
                         {"preRequestNo": t2["requestNo"], "amount": 300_000}])["respCode"] == codes.SUCCESS
    assert call("USER_PRE_TRANSACTION", userNo="bor1", bizType="REPAYMENT", amount=88_849,
                projectNo="P1")["respCode"] == codes.PROJECT_STATE  # not repaying yet
    call("MODIFY_PROJECT", projectNo="P1", status="REPAYING")
    freeze = call("USER_PRE_TRANSACTION", userNo="bor1", bizType="REPAYMENT", amount=88_849, projectNo="P1")
    assert freeze["respCode"] == codes.SUCCESS
    details = [
        {"userNo": "inv1", "principal": 55_194, "interest": 7_000, "commission": 700},
        {"userNo": "inv2", "principal": 23_655, "interest": 3_000, "commission": 300},
    ]
    bad = call("CONFIRM_REPAYMENT", preRequestNo=freeze["requestNo"], projectNo="P1", commission=1, details=details)
    assert bad["respCode"] == codes.AMOUNTS_MISMATCH
    ok = call("CONFIRM_REPAYMENT", preRequestNo=freeze["requestNo"], projectNo="P1", commission=0, details=details)
    assert ok["respCode"] == codes.SUCCESS, ok
    assert balance("inv1") == (300_000 + 55_194 + 7_000 - 700, 0)
    assert balance("inv2") == (200_000 + 23_655 + 3_000 - 300, 0)
    assert balance("bor1") == (1_000_000 - 88_849, 0)
    assert call("QUERY_BALANCE", userNo="PLATFORM_INCOME")["available"] == 1000
    again = call("CONFIRM_REPAYMENT", preRequestNo=freeze["requestNo"], projectNo="P1", commission=0,
                 details=details)
    assert again["respCode"] == codes.FREEZE_NOT_FOUND
    assert_ledger_sound()


def test_transfer_and_partial_post_from_freeze(funded):
    call = funded.call
    freeze = call("USER_PRE_TRANSACTION", userNo="inv1", bizType="ALLOCATION", amount=50_000)
    fee = call("TRANSFER", bizType="ALLOCATION_FEE", payer="inv1", payee="PLATFORM_INCOME", amount=20_000,
               preRequestNo=freeze["requestNo"])
    assert fee["respCode"] == codes.SUCCESS, fee
    assert balance("inv1") == (950_000, 30_000)
    too_much = call("TRANSFER", bizType="ALLOCATION_FEE", payer="inv1", payee="PLATFORM_INCOME", amount=30_001,
                    preRequestNo=freeze["requestNo"])
    assert too_much["respCode"] == codes.AMOUNTS_MISMATCH
    cancel = call("CANCEL_PRE_TRANSACTION", preRequestNo=freeze["requestNo"])
    assert (cancel["respCode"], cancel["amount"]) == (codes.SUCCESS, 30_000)
    assert balance("inv1") == (980_000, 0)
    assert call("CANCEL_PRE_TRANSACTION", preRequestNo=freeze["requestNo"])["respCode"] == codes.FREEZE_NOT_FOUND
    tender = call("USER_PRE_TRANSACTION", userNo="inv1", bizType="TENDER", amount=1_000, projectNo="P1")
    from_tender = call("TRANSFER", bizType="ALLOCATION_FEE", payer="inv1", payee="PLATFORM_INCOME", amount=1_000,
                       preRequestNo=tender["requestNo"])
    assert from_tender["respCode"] == codes.FREEZE_NOT_FOUND
    assert balance("inv1") == (979_000, 1_000)
    empty = call("TRANSFER", bizType="COMPENSATION", payer="PLATFORM_CAPITAL", payee="inv2", amount=1)
    assert empty["respCode"] == codes.INSUFFICIENT_BALANCE
    assert_ledger_sound()


def test_query_request_returns_stored_response(funded):
    first = funded.call("QUERY_BALANCE", userNo="inv1")
    looked = funded.call("QUERY_REQUEST", queryRequestNo=first["requestNo"])
    assert looked["respCode"] == codes.SUCCESS
    assert looked["result"] == first


def test_statement_download_for_closed_day(funded):
    yesterday = time.strftime("%Y-%m-%d", time.localtime(time.time() - 2 * 86400))
    resp = funded.call("DOWNLOAD_STATEMENT", date=yesterday)
    assert resp["respCode"] == codes.SUCCESS
    text = base64.b64decode(resp["file"]).decode()
    assert text.startswith("requestNo,serviceName,bizType,userNo,counterparty,amount,commission,status,finishedAt\n")
    today = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
    assert funded.call("DOWNLOAD_STATEMENT", date=today)["respCode"] == codes.INVALID_PARAMS


def _age_bank_history(days: int) -> None:
    """Move everything the bank recorded so far ``days`` back, as if it happened then."""
    from django.db.models import F

    from wanxin.bank.models import BalanceChange

    shift = dt.timedelta(days=days)
    BankRequest.objects.using("bank").update(created_at=F("created_at") - shift,
                                             finished_at=F("finished_at") - shift)
    BalanceChange.objects.using("bank").update(created_at=F("created_at") - shift)
    Account.objects.using("bank").update(opened_at=F("opened_at") - shift)


def test_balance_file_is_the_close_of_a_past_day(funded):
    # Two days ago: the funding and a tender freeze; today: more money moves, which the
    # file of that past day must not show.
    assert funded.call("USER_PRE_TRANSACTION", userNo="inv1", bizType="TENDER", amount=2_000,
                       projectNo="P1")["respCode"] == codes.SUCCESS
    _age_bank_history(2)
    assert recharge(funded.private_key, "inv2", 7_000).status == "SUCCESS"
    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    resp = funded.call("DOWNLOAD_STATEMENT", date=day, kind="BALANCES")
    assert resp["respCode"] == codes.SUCCESS, resp
    text = base64.b64decode(resp["file"]).decode()
    assert hashlib.sha256(text.encode()).hexdigest() == resp["sha256"]
    lines = text.splitlines()
    assert lines[0] == "userNo,available,frozen,asOf"
    rows = [line.split(",") for line in lines[1:]]
    assert resp["rows"] == len(rows)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)  # ordered by userNo
    got = {r[0]: (int(r[1]), int(r[2])) for r in rows}
    assert got == {"bor1": (0, 0), "inv1": (998_000, 2_000), "inv2": (500_000, 0)}  # no card network
    assert {r[3] for r in rows} == {f"{(timezone.localdate() - dt.timedelta(days=1)).isoformat()}T00:00:00+08:00"}
    # The same bytes on every download; the transactions file is still the default kind.
    assert funded.call("DOWNLOAD_STATEMENT", date=day, kind="BALANCES")["sha256"] == resp["sha256"]
    # The request log keeps the answer without the file; a replay gives the file back.
    stored = BankRequest.objects.using("bank").get(request_no=resp["requestNo"]).response
    assert "file" not in stored and stored["sha256"] == resp["sha256"]
    env = funded.envelope("DOWNLOAD_STATEMENT", {"requestNo": resp["requestNo"], "date": day, "kind": "BALANCES"})
    # (a new timestamp, so other reqData: 00006; the very same bytes replay)
    assert funded.open(funded.post(env))["respCode"] == codes.REQUEST_NO_REUSED
    same = funded.envelope("DOWNLOAD_STATEMENT", {"date": day})
    first, again = funded.open(funded.post(same)), funded.open(funded.post(same))
    assert first == again and first["file"]
    assert base64.b64decode(funded.call("DOWNLOAD_STATEMENT", date=day)["file"]).decode().startswith("requestNo,")
    assert funded.call("DOWNLOAD_STATEMENT", date=day, kind="LEDGER")["respCode"] == codes.INVALID_PARAMS
