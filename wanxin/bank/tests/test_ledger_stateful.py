"""Model-based test of the bank ledger (PROTOCOL §5, §8).

A hypothesis state machine drives random recharges, withdrawals, ALLOCATION freezes,
partial posts out of freezes, voids and plain transfers against the service layer (no
HTTP, same code paths as the views), keeps a plain-Python model of every balance it
touches and checks after every step that the bank agrees with the model and that the
ledger guarantees hold: the books sum to zero, no customer is overdrawn, every account's
history replays to its balance, and every refusal changed nothing at all.

The database is not reset between hypothesis examples, so each example opens its own
customers (unique userNos and ID numbers), empties the shared PLATFORM_CAPITAL into a
throw-away customer before funding it afresh (so that what hypothesis draws never depends
on earlier examples) and reads PLATFORM_INCOME's starting balance.
"""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Sum
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from wanxin.bank import accounts, handlers, invariants, processing, staff
from wanxin.bank.models import Account, BalanceChange, BankCard, BankRequest, Freeze, Transfer
from wanxin.bank.tests.helpers import open_account, recharge, withdraw
from wanxin.core.ids import new_request_no
from wanxin.protocol import codes, envelope, messages, signing

DB = "bank"
INCOME, CAPITAL = messages.PLATFORM_INCOME, messages.PLATFORM_CAPITAL
# Transfer biz types a customer may or may not have authorised; the freeze type
# ALLOCATION is always granted so that freezes happen in every example.
OPTIONAL_AUTH = ("ALLOCATION_FEE", "ALLOCATION_SETTLE")

_ids = itertools.count(1)
_run = secrets.token_hex(3)

amounts = st.integers(min_value=1, max_value=60_000)


def near(limit: int) -> st.SearchStrategy[int]:
    """Amounts mostly within a limit, often exactly on it or one fen over, else anywhere."""
    within = [st.integers(min_value=1, max_value=limit)] * 2 if limit >= 1 else []
    edges = [st.just(a) for a in (limit, limit + 1) if a >= 1]
    return st.one_of(*within, *edges, amounts)


def _balance(account_no: str) -> tuple[int, int]:
    account = Account.objects.using(DB).get(platform_no=settings.PLATFORM_NO, account_no=account_no)
    return account.available, account.frozen


class LedgerMachine(RuleBasedStateMachine):
    customers = Bundle("customers")
    freezes = Bundle("freezes")

    def __init__(self) -> None:
        super().__init__()
        self.key = signing.load_private_key(settings.PLATFORM_PRIVATE_KEY)
        # Model: userNo -> [available, frozen], bound-card balances, platform account balances.
        self.model: dict[str, list[int]] = {}
        self.card: dict[str, int] = {}
        self.auth: dict[str, set[str]] = {}
        self.freeze_model: dict[str, dict[str, Any]] = {}  # preRequestNo -> owner, amount, remaining, status
        self.platform: dict[str, int] = {}
        self.done: list[tuple[dict[str, str], dict[str, Any]]] = []  # (envelope, response) of direct calls

    # -- plumbing ------------------------------------------------------------------------

    def direct(self, service: str, *, record: bool = True, **data: Any) -> dict[str, Any]:
        data = {"requestNo": new_request_no("H"), "timestamp": int(time.time() * 1000), **data}
        env = envelope.build_request(self.key, service_name=service, platform_no=settings.PLATFORM_NO,
                                     data=data).as_dict()
        verified = processing.verify(env, allowed=messages.DIRECT_SERVICES)
        resp = processing.execute_direct(verified, handlers.DIRECT[service])
        assert resp["requestNo"] == data["requestNo"]
        assert resp["respCode"] != codes.SYSTEM_ERROR, resp
        if record:
            self.done.append((env, resp))
        return resp

    def platform_balance(self, account_no: str) -> int:
        available, frozen = _balance(account_no)
        assert frozen == 0
        return available

    def expect_refused(self, request_no: str, resp_code: str, expected: str) -> None:
        """A refusal is recorded as FAIL and left no movement and no balance change behind."""
        assert resp_code == expected, f"{request_no}: got {resp_code}, expected {expected}"
        req = BankRequest.objects.using(DB).get(platform_no=settings.PLATFORM_NO, request_no=request_no)
        assert (req.status, req.resp_code, req.moved_money) == ("FAIL", expected, False)
        assert not Transfer.objects.using(DB).filter(request=req).exists()
        assert not BalanceChange.objects.using(DB).filter(request=req).exists()
        assert not Freeze.objects.using(DB).filter(request=req).exists()

    def expect_success(self, request_no: str, resp_code: str) -> BankRequest:
        assert resp_code == codes.SUCCESS, f"{request_no}: got {resp_code}"
        req = BankRequest.objects.using(DB).get(platform_no=settings.PLATFORM_NO, request_no=request_no)
        assert (req.status, req.moved_money) == ("SUCCESS", True)
        return req

    # -- set-up --------------------------------------------------------------------------

    @initialize(target=customers,
                opening=st.lists(st.integers(min_value=0, max_value=200_000), min_size=3, max_size=4),
                missing=st.lists(st.sampled_from(OPTIONAL_AUTH), max_size=2, unique=True),
                capital=st.integers(min_value=1, max_value=200_000))
    def open_customers(self, opening: list[int], missing: list[str], capital: int) -> Any:
        # PLATFORM_CAPITAL outlives examples: pay whatever it holds to a sink customer first,
        # so every example starts from the same capital and draws never depend on history.
        n = next(_ids)
        sink = f"sm{_run}s{n}"
        assert open_account(self.key, sink, id_suffix=f"{n:08d}").status == "SUCCESS"
        accounts.system(settings.PLATFORM_NO, CAPITAL)
        left = self.platform_balance(CAPITAL)
        if left:
            resp = self.direct("TRANSFER", record=False, bizType="COMPENSATION", payer=CAPITAL, payee=sink,
                               amount=left)
            self.expect_success(resp["requestNo"], resp["respCode"])
        assert _balance(sink) == (left, 0)
        staff.fund_platform_capital(platform_no=settings.PLATFORM_NO, amount=capital, staff="hypothesis")
        accounts.system(settings.PLATFORM_NO, INCOME)
        # PLATFORM_INCOME is never drawn against, so its starting balance may vary.
        self.platform = {INCOME: self.platform_balance(INCOME), CAPITAL: capital}
        assert self.platform_balance(CAPITAL) == capital
        names = []
        for index, amount in enumerate(opening):
            n = next(_ids)
            user_no = f"sm{_run}u{n}"
            # The first customer lacks the drawn optional authorisations, so 30002 gets exercised.
            granted = [a for a in messages.AUTH_TYPES if index != 0 or a not in missing]
            req = open_account(self.key, user_no, auth=granted, id_suffix=f"{n:08d}")
            assert req.status == "SUCCESS", req.response
            assert _balance(user_no) == (0, 0)
            self.model[user_no] = [0, 0]
            self.card[user_no] = settings.BANK_SIMULATED_CARD_BALANCE
            self.auth[user_no] = set(granted)
            if amount:
                self.recharge(user_no, amount)
            names.append(user_no)
        return multiple(*names)

    # -- gateway services ----------------------------------------------------------------

    @rule(user=customers, amount=st.integers(min_value=1, max_value=100_000))
    def recharge(self, user: str, amount: int) -> None:
        req = recharge(self.key, user, amount)
        self.expect_success(req.request_no, req.resp_code)
        self.model[user][0] += amount
        self.card[user] -= amount

    @rule(user=customers, data=st.data())
    def withdraw(self, user: str, data: st.DataObject) -> None:
        amount = max(2, data.draw(near(self.model[user][0]), label="amount"))
        commission = data.draw(st.integers(min_value=0, max_value=amount - 1), label="commission")
        req = withdraw(self.key, user, amount, commission)
        if amount > self.model[user][0]:
            self.expect_refused(req.request_no, req.resp_code, codes.INSUFFICIENT_BALANCE)
            return
        self.expect_success(req.request_no, req.resp_code)
        self.model[user][0] -= amount
        self.card[user] += amount - commission
        self.platform[INCOME] += commission

    # -- freezes -------------------------------------------------------------------------

    @rule(target=freezes, user=customers, data=st.data())
    def freeze(self, user: str, data: st.DataObject) -> Any:
        amount = data.draw(near(self.model[user][0]), label="amount")
        resp = self.direct("USER_PRE_TRANSACTION", userNo=user, bizType="ALLOCATION", amount=amount,
                           remark="allocation deposit")
        if amount > self.model[user][0]:
            self.expect_refused(resp["requestNo"], resp["respCode"], codes.INSUFFICIENT_BALANCE)
            return multiple()
        self.expect_success(resp["requestNo"], resp["respCode"])
        assert (resp["userNo"], resp["amount"], resp["frozen"]) == (user, amount, amount)
        self.model[user][0] -= amount
        self.model[user][1] += amount
        self.freeze_model[resp["requestNo"]] = {"owner": user, "amount": amount, "remaining": amount,
                                                "status": "FROZEN"}
        return resp["requestNo"]

    @rule(pre=freezes, payer=st.none() | customers, data=st.data())
    def post_from_freeze(self, pre: str, payer: str | None, data: st.DataObject) -> None:
        """ALLOCATION_FEE out of a freeze; sometimes named with the wrong payer."""
        f = self.freeze_model[pre]
        amount = data.draw(near(f["remaining"]), label="amount")
        payer = payer or f["owner"]
        resp = self.direct("TRANSFER", bizType="ALLOCATION_FEE", payer=payer, payee=INCOME, amount=amount,
                           preRequestNo=pre)
        if "ALLOCATION_FEE" not in self.auth[payer]:
            expected = codes.NOT_AUTHORISED
        elif f["status"] != "FROZEN" or payer != f["owner"]:
            expected = codes.FREEZE_NOT_FOUND
        elif amount > f["remaining"]:
            expected = codes.AMOUNTS_MISMATCH
        else:
            expected = codes.SUCCESS
        if expected != codes.SUCCESS:
            self.expect_refused(resp["requestNo"], resp["respCode"], expected)
            return
        req = self.expect_success(resp["requestNo"], resp["respCode"])
        assert (resp["payer"], resp["payee"], resp["amount"]) == (payer, INCOME, amount)
        transfer = Transfer.objects.using(DB).get(request=req)
        assert (transfer.amount, transfer.freeze.request.request_no) == (amount, pre)
        self.model[payer][1] -= amount
        self.platform[INCOME] += amount
        f["remaining"] -= amount
        if f["remaining"] == 0:
            f["status"] = "POSTED"

    @rule(pre=freezes, unknown=st.integers(min_value=0, max_value=9))
    def void(self, pre: str, unknown: int) -> None:
        if unknown == 0:  # now and then a preRequestNo the bank never saw
            resp = self.direct("CANCEL_PRE_TRANSACTION", preRequestNo=new_request_no("NOPE"))
            self.expect_refused(resp["requestNo"], resp["respCode"], codes.FREEZE_NOT_FOUND)
            return
        f = self.freeze_model[pre]
        resp = self.direct("CANCEL_PRE_TRANSACTION", preRequestNo=pre)
        if f["status"] != "FROZEN":
            self.expect_refused(resp["requestNo"], resp["respCode"], codes.FREEZE_NOT_FOUND)
            return
        self.expect_success(resp["requestNo"], resp["respCode"])
        assert (resp["preRequestNo"], resp["amount"]) == (pre, f["remaining"])
        self.model[f["owner"]][0] += f["remaining"]
        self.model[f["owner"]][1] -= f["remaining"]
        f["remaining"], f["status"] = 0, "VOIDED"

    # -- plain transfers -----------------------------------------------------------------

    @rule(user=customers, top_up=st.sampled_from([0, 0, 0, 20_000, 100_000]), data=st.data())
    def compensate(self, user: str, top_up: int, data: st.DataObject) -> None:
        if top_up:  # bank staff fund the capital account now and then
            staff.fund_platform_capital(platform_no=settings.PLATFORM_NO, amount=top_up, staff="hypothesis")
            self.platform[CAPITAL] += top_up
        amount = data.draw(near(self.platform[CAPITAL]), label="amount")
        resp = self.direct("TRANSFER", bizType="COMPENSATION", payer=CAPITAL, payee=user, amount=amount)
        if amount > self.platform[CAPITAL]:
            self.expect_refused(resp["requestNo"], resp["respCode"], codes.INSUFFICIENT_BALANCE)
            return
        self.expect_success(resp["requestNo"], resp["respCode"])
        self.platform[CAPITAL] -= amount
        self.model[user][0] += amount

    @rule(user=customers, data=st.data())
    def settle(self, user: str, data: st.DataObject) -> None:
        amount = data.draw(near(self.model[user][0]), label="amount")
        resp = self.direct("TRANSFER", bizType="ALLOCATION_SETTLE", payer=user, payee=CAPITAL, amount=amount)
        if "ALLOCATION_SETTLE" not in self.auth[user]:
            self.expect_refused(resp["requestNo"], resp["respCode"], codes.NOT_AUTHORISED)
            return
        if amount > self.model[user][0]:
            self.expect_refused(resp["requestNo"], resp["respCode"], codes.INSUFFICIENT_BALANCE)
            return
        self.expect_success(resp["requestNo"], resp["respCode"])
        self.model[user][0] -= amount
        self.platform[CAPITAL] += amount

    # -- idempotency ---------------------------------------------------------------------

    @rule(data=st.data())
    def repeat_a_request(self, data: st.DataObject) -> None:
        """Sending an earlier request again returns its stored response and moves nothing."""
        if not self.done:
            return
        env, first = data.draw(st.sampled_from(self.done), label="earlier request")
        service = env["serviceName"]
        again = processing.execute_direct(processing.verify(env, allowed=messages.DIRECT_SERVICES),
                                          handlers.DIRECT[service])
        assert again == first
        # The model is unchanged: the invariants below prove nothing moved.

    # -- checks after every step ---------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        assert invariants.total_balance() == 0
        assert invariants.negative_customers() == 0

    @invariant()
    def balances_match_model(self) -> None:
        for user_no, (available, frozen) in self.model.items():
            assert _balance(user_no) == (available, frozen), user_no
            assert available >= 0 and frozen >= 0
        for account_no, expected in self.platform.items():
            assert self.platform_balance(account_no) == expected, account_no
        cards = dict(BankCard.objects.using(DB).filter(account__account_no__in=list(self.card))
                     .values_list("account__account_no", "balance"))
        assert cards == self.card

    @invariant()
    def freezes_match_model(self) -> None:
        if not self.freeze_model:
            return
        rows = Freeze.objects.using(DB).filter(request__request_no__in=list(self.freeze_model)).values_list(
            "request__request_no", "amount", "remaining", "status", "account__account_no")
        seen = {pre: (amount, remaining, status, owner) for pre, amount, remaining, status, owner in rows}
        assert seen == {pre: (f["amount"], f["remaining"], f["status"], f["owner"])
                        for pre, f in self.freeze_model.items()}
        # A customer's frozen balance is exactly what remains of their open freezes.
        for user_no in self.model:
            held = Freeze.objects.using(DB).filter(account__platform_no=settings.PLATFORM_NO,
                                                   account__account_no=user_no, status="FROZEN")
            assert (held.aggregate(s=Sum("remaining"))["s"] or 0) == self.model[user_no][1]

    @invariant()
    def history_replays(self) -> None:
        assert invariants.replay_mismatches() == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "bank"])
def test_ledger_agrees_with_model(settings):
    # Trade passwords are checked on every recharge and withdrawal; a fast hasher keeps
    # hundreds of gateway confirmations cheap (the hashing itself is Django's, not ours).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    run_state_machine_as_test(
        LedgerMachine,
        settings=hsettings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    # Not a vacuous run (rule choice is random, so only what is all but certain is checked):
    # freezes were made, partly posted and voided, and refusals happened.
    done = set(BankRequest.objects.using(DB).values_list("service_name", "resp_code"))
    assert {("USER_PRE_TRANSACTION", codes.SUCCESS), ("CANCEL_PRE_TRANSACTION", codes.SUCCESS),
            ("TRANSFER", codes.SUCCESS)} <= done
    assert Transfer.objects.using(DB).filter(freeze__isnull=False).exists()
    assert {code for _, code in done} & {codes.INSUFFICIENT_BALANCE, codes.FREEZE_NOT_FOUND}
