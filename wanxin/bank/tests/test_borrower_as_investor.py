"""A borrower is never an investor of their own loan at the bank: their TENDER on it is
refused, and a CONFIRM_REPAYMENT that lists them among the investors is refused with a
final code (30020), alone and as a BATCH item, instead of failing the ledger's
distinct-accounts CHECK (a retryable 00001 that, in a batch, sank every other item)."""

from __future__ import annotations

from typing import Any

import pytest

from wanxin.bank import invariants
from wanxin.bank.models import BankRequest, Freeze
from wanxin.bank.tests.test_batch_repayments import fast_trade_passwords, repaying_project  # noqa: F401
from wanxin.protocol import codes
from wanxin.testing.bank import bank_balance

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def detail(user: str, principal: int, interest: int = 0, commission: int = 0) -> dict[str, Any]:
    return {"userNo": user, "principal": principal, "interest": interest, "commission": commission}


def test_a_borrower_cannot_tender_on_their_own_project(bank, platform_key):
    repaying_project(bank, platform_key, "T", 71)
    assert bank.call("CREATE_PROJECT", projectNo="TQ", borrowerUserNo="Tb", amount=10_000, annualRate="0.120000",
                     periods=1, repaymentMethod="BULLET", name="own")["respCode"] == codes.SUCCESS
    tender = {"userNo": "Tb", "bizType": "TENDER", "amount": 1_000, "projectNo": "TQ"}
    alone = bank.call("USER_PRE_TRANSACTION", **tender)
    batched = bank.call("BATCH", items=[{"serviceName": "USER_PRE_TRANSACTION",
                                         "data": {"requestNo": "Tt-own", **tender}}])["results"][0]
    for result in (alone, batched):
        assert (result["respCode"], result["respMsg"]) == (codes.PROJECT_STATE,
                                                           "a borrower cannot invest in their own project")
    assert not Freeze.objects.using("bank").filter(project_no="TQ").exists()


def test_repayment_listing_the_borrower_is_refused_alone_and_in_a_batch(bank, platform_key):
    repaying_project(bank, platform_key, "S", 72)
    before = [bank_balance(u) for u in ("Sb", "Si1", "Si2")]

    def hold(request_no: str, amount: int) -> None:
        assert bank.call("USER_PRE_TRANSACTION", requestNo=request_no, userNo="Sb", bizType="REPAYMENT",
                         amount=amount, projectNo="SP")["respCode"] == codes.SUCCESS

    def confirm(request_no: str, pre: str, details: list[dict[str, Any]]) -> dict[str, Any]:
        return {"requestNo": request_no, "preRequestNo": pre, "projectNo": "SP", "commission": 0,
                "details": details}

    hold("Sf1", 1_000)
    hold("Sf2", 1_000)
    hold("Sf3", 1_000)
    own = [detail("Si1", 600), detail("Sb", 400)]
    zero = [detail("Si1", 1_000), detail("Sb", 0)]  # even a share of nothing
    first = bank.envelope("CONFIRM_REPAYMENT", confirm("Sc1", "Sf1", own))
    alone = [bank.open(bank.post(first)), bank.call("CONFIRM_REPAYMENT", **confirm("Sc2", "Sf1", zero))]
    # In a batch beside good items: only the one listing the borrower is refused.
    batched = bank.call("BATCH", requestNo="Sbatch", items=[
        {"serviceName": "CONFIRM_REPAYMENT", "data": confirm("Sc3", "Sf2", [detail("Si1", 500), detail("Si2", 500)])},
        {"serviceName": "CONFIRM_REPAYMENT", "data": confirm("Sc4", "Sf3", own)},
        {"serviceName": "QUERY_BALANCE", "data": {"requestNo": "Sq1", "userNo": "Sb"}},  # then the slow path
        {"serviceName": "CONFIRM_REPAYMENT", "data": confirm("Sc5", "Sf3", zero)},
    ])
    assert batched["respCode"] == codes.SUCCESS, batched
    results = batched["results"]
    assert [r["respCode"] for r in results] == [codes.SUCCESS, codes.PROJECT_STATE, codes.SUCCESS,
                                                codes.PROJECT_STATE]
    refusals = [*alone, results[1], results[3]]
    assert {(r["respCode"], r["status"], r["respMsg"]) for r in refusals} == {
        (codes.PROJECT_STATE, "FAIL", "the borrower of a project cannot be paid as its investor")}
    # Final and recorded: the very same envelope again replays the refusal (§3).
    assert bank.open(bank.post(first)) == alone[0]
    assert BankRequest.objects.using("bank").get(request_no="Sc1").resp_code == codes.PROJECT_STATE
    # The refused freezes are untouched and can still be paid out correctly.
    assert list(Freeze.objects.using("bank").filter(request__request_no__in=["Sf1", "Sf3"])
                .values_list("remaining", "status")) == [(1_000, "FROZEN")] * 2
    assert bank.call("CONFIRM_REPAYMENT", **confirm("Sc6", "Sf1", [detail("Si1", 1_000)]))["respCode"] == codes.SUCCESS
    assert bank.call("CANCEL_PRE_TRANSACTION", preRequestNo="Sf3")["respCode"] == codes.SUCCESS
    assert [bank_balance(u) for u in ("Sb", "Si1", "Si2")] == [
        (before[0][0] - 2_000, 0), (before[1][0] + 1_500, 0), (before[2][0] + 500, 0)]
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
