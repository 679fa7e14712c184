"""CONFIRM_REPAYMENT on the BATCH fast path (sql/batch_items.sql): the same repayments sent
alone and in batches, to twin borrowers, investors and projects, give the same results,
postings, history rows, statement rows and stored requests; repeats replay."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings

from wanxin.bank import invariants, statements
from wanxin.bank.models import BalanceChange, BankRequest, Freeze, Transfer
from wanxin.bank.tests.helpers import open_account, recharge
from wanxin.protocol import codes

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
DB = "bank"


@pytest.fixture(autouse=True)
def fast_trade_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def repaying_project(bank, key, side: str, n: int) -> None:
    """Borrower ``{side}b`` owes on project ``{side}P`` (REPAYING), lent by ``{side}i1``/``{side}i2``;
    ``{side}i3`` has no account."""
    for k, user in enumerate(("b", "i1", "i2")):
        assert open_account(key, f"{side}{user}", id_suffix=f"{n:06d}{k:02d}").status == "SUCCESS"
        assert recharge(key, f"{side}{user}", 100_000).status == "SUCCESS"
    assert bank.call("CREATE_PROJECT", projectNo=f"{side}P", borrowerUserNo=f"{side}b", amount=60_000,
                     annualRate="0.120000", periods=3, repaymentMethod="EQUAL_INSTALLMENT",
                     name="twin")["respCode"] == codes.SUCCESS
    tenders = [bank.call("USER_PRE_TRANSACTION", requestNo=f"{side}t{k}", userNo=f"{side}i{k}", bizType="TENDER",
                         amount=30_000, projectNo=f"{side}P") for k in (1, 2)]
    assert bank.call("MODIFY_PROJECT", projectNo=f"{side}P", status="FULL")["respCode"] == codes.SUCCESS
    assert bank.call("CONFIRM_LOAN", projectNo=f"{side}P", commission=600, details=[
        {"preRequestNo": t["requestNo"], "amount": 30_000} for t in tenders])["respCode"] == codes.SUCCESS
    assert bank.call("MODIFY_PROJECT", projectNo=f"{side}P", status="REPAYING")["respCode"] == codes.SUCCESS


def scenario(side: str) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
    """(earlier requests, the main list); everything but the ``side`` prefix identical."""
    b, i1, i2, project = f"{side}b", f"{side}i1", f"{side}i2", f"{side}P"

    def r(n: str) -> str:
        return f"{side}r{n}"

    def hold(n: str, amount: int, biz: str = "REPAYMENT") -> tuple[str, dict[str, Any]]:
        extra = {"projectNo": project} if biz == "REPAYMENT" else {}
        return ("USER_PRE_TRANSACTION", {"requestNo": r(n), "userNo": b, "bizType": biz, "amount": amount, **extra})

    def detail(user: str, principal: int, interest: int, commission: int) -> dict[str, Any]:
        return {"userNo": user, "principal": principal, "interest": interest, "commission": commission}

    def confirm(n: str, pre: str, details: list[dict[str, Any]], commission: int = 0,
                **change: Any) -> tuple[str, dict[str, Any]]:
        return ("CONFIRM_REPAYMENT", {"requestNo": r(n), "preRequestNo": r(pre), "projectNo": project,
                                      "commission": commission, "details": details, **change})

    pay = [detail(i1, 10_000, 300, 30), detail(i2, 10_000, 300, 30)]  # 20,600 with the platform's 50
    earlier = [hold("f0", 20_650), hold("f1", 20_650), hold("f2", 1_000), hold("fa", 500, "ALLOCATION"),
               hold("f4", 700), confirm("c0", "f0", pay, 50)]
    main = [
        confirm("c1", "f1", pay, 50),                                                   # succeeds
        confirm("c2", "f1", pay, 50),                                                   # 30010: posted
        confirm("c3", "f2", [detail(i1, 900, 99, 0)]),                                  # 30011: 999
        confirm("c4", "f2", [detail(i1, 900, 100, 0)], projectNo=f"{side}Q"),           # 30010: other project
        confirm("c5", "fa", [detail(i1, 500, 0, 0)]),                                   # 30010: ALLOCATION
        confirm("c6", "f2", [detail(f"{side}zz", 500, 0, 0), detail(f"{side}i3", 500, 0, 0)]),  # 30001: i3 first
        confirm("c7", "f2", [detail(i1, 500, 0, 600), detail(i2, 500, 0, 0)]),          # 00003: commission > 500
        ("QUERY_BALANCE", {"requestNo": r("q1"), "userNo": b}),                          # the slow path between
        hold("f3", 1_200),                                                               # frozen in this batch
        confirm("c8", "f3", [detail(i1, 400, 0, 0), detail(i2, 300, 0, 0), detail(i1, 200, 0, 0),
                             detail(i2, 0, 0, 0), detail(i2, 300, 0, 300)]),             # an investor twice
        confirm("c9", "f2", [detail(i2, 800, 100, 10), detail(i1, 100, 0, 0)], 0),      # sees nothing of c8
        ("CANCEL_PRE_TRANSACTION", {"requestNo": r("v4"), "preRequestNo": r("f4")}),
        confirm("c10", "f4", [detail(i1, 700, 0, 0)]),                                  # 30010: voided
        confirm("c0", "f0", pay, 50),                                                   # repeat: stored
        confirm("c11", "f0", [detail(i1, "1", 0, 0)]),                                  # bad field: 00003
        ("QUERY_REQUEST", {"requestNo": r("q2"), "queryRequestNo": r("c8")}),
    ]
    later = [confirm("c1", "f1", pay, 50), confirm("c0", "f0", pay, 51)]  # in another batch: stored; 00006
    return earlier, main + later


def unsided(value: Any, side: str) -> Any:
    return json.loads(re.sub(rf'(?<=["\s,]){side}(?=b|i\d|zz|P|Q|r)', "", json.dumps(value, sort_keys=True)))


def recorded(side: str) -> dict[str, Any]:
    """Everything the bank stored for the side's requests, by requestNo."""
    reqs = BankRequest.objects.using(DB).filter(request_no__startswith=f"{side}r").order_by("request_no")
    out = {}
    for req in reqs:
        transfers = Transfer.objects.using(DB).filter(request=req).order_by("id")
        changes = BalanceChange.objects.using(DB).filter(request=req).order_by("id")
        out[req.request_no] = {
            "row": [req.service_name, req.status, req.resp_code, req.response, req.biz_type, req.user_no,
                    req.counterparty, req.amount, req.commission, req.moved_money],
            "transfers": [[t.debit.account_no, t.credit.account_no, t.amount, t.freeze and t.freeze.request.request_no]
                          for t in transfers],
            # Platform accounts are shared by both sides: their deltas, not their balances.
            "changes": [[c.account.account_no, c.delta_available, c.delta_frozen,
                         *([c.available_after, c.frozen_after] if c.account.kind == "CUSTOMER" else [])]
                        for c in changes],
            "freeze": list(Freeze.objects.using(DB).filter(request=req).values_list("amount", "remaining", "status")),
        }
    return out


def accounts(side: str) -> list[tuple[int, int]]:
    from wanxin.testing.bank import bank_balance
    return [bank_balance(f"{side}{u}") for u in ("b", "i1", "i2")]


def test_repayments_in_a_batch_get_exactly_their_results_alone(bank, platform_key):
    repaying_project(bank, platform_key, "S", 61)
    repaying_project(bank, platform_key, "B", 62)

    # Twin S: every request alone; the repeat resends the very same envelope (§3).
    earlier, main = scenario("S")
    envs = {}
    for service, data in earlier:
        envs[data["requestNo"]] = bank.envelope(service, data)
        assert bank.open(bank.post(envs[data["requestNo"]]))["respCode"] == codes.SUCCESS
    alone = []
    for n, (service, data) in enumerate(main):
        repeat = data["requestNo"] in envs and n in (13, 16)
        env = envs[data["requestNo"]] if repeat else bank.envelope(service, data)
        envs.setdefault(data["requestNo"], env)
        alone.append(bank.open(bank.post(env)))

    # Twin B: the earlier requests in one batch, the main list in another.
    earlier, main = scenario("B")
    first = bank.call("BATCH", requestNo="Bbatch0", items=[{"serviceName": s, "data": d} for s, d in earlier])
    assert [r["respCode"] for r in first["results"]] == [codes.SUCCESS] * len(earlier)
    batched = bank.call("BATCH", requestNo="Bbatch1", items=[{"serviceName": s, "data": d} for s, d in main[:-2]])
    assert batched["respCode"] == codes.SUCCESS
    again = bank.call("BATCH", requestNo="Bbatch2", items=[{"serviceName": s, "data": d} for s, d in main[-2:]])
    batched["results"] += again["results"]

    assert [r["respCode"] for r in batched["results"]] == [
        "00000", "30010", "30011", "30010", "30010", "30001", "00003", "00000", "00000", "00000", "00000",
        "00000", "30010", "00000", "00003", "00000", "00000", "00006"]
    assert unsided(batched["results"], "B") == unsided(alone, "S")
    assert "Bi3" in batched["results"][5]["respMsg"] and "900" not in batched["results"][2]["respMsg"]
    assert batched["results"][9] == {**batched["results"][9], "amount": 1_200, "commission": 300}
    assert accounts("B") == accounts("S")
    assert unsided(recorded("B"), "B") == unsided(recorded("S"), "S")
    assert BankRequest.objects.using(DB).get(request_no="Brc1").moved_money is True
    # Statement rows are the items' own: the same lines on both sides but for the prefix.
    day = BankRequest.objects.using(DB).get(request_no="Brc1").finished_at.astimezone().date()
    content, _ = statements.render(settings.PLATFORM_NO, day)
    lines = {side: sorted(",".join(line.split(",")[:-1]) for line in content.splitlines()
                          if line.startswith(f"{side}r")) for side in "SB"}
    assert "Brc1,CONFIRM_REPAYMENT,REPAYMENT,Bb,BP,20650,110,SUCCESS" in lines["B"]
    assert unsided(lines["B"], "B") == unsided(lines["S"], "S")
    assert again["results"][0] == batched["results"][0]  # the repeat in another batch: stored, moved nothing
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
    assert invariants.negative_customers() == 0
