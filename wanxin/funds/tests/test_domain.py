"""Pure rules: amounts as yuan text, the withdrawal commission, balances after each event,
the chart's geometry. No database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.core.money import parse_yuan
from wanxin.funds import domain
from wanxin.funds.domain import AmountError, CommissionRule, MoneyEvent

MAX = 10_000_000_00


@given(st.integers(min_value=1, max_value=MAX))
def test_fen_round_trips_through_yuan_text(fen):
    assert parse_yuan(domain.fen_to_yuan_text(fen), maximum=MAX) == fen


def test_fen_to_yuan_text():
    assert domain.fen_to_yuan_text(123456) == "1234.56"
    assert domain.fen_to_yuan_text(5) == "0.05"
    assert domain.fen_to_yuan_text(-200) == "-2.00"
    assert domain.fen_to_yuan_text(0) == "0.00"


# -- commission ---------------------------------------------------------------------------------


def test_rate_with_minimum_rounds_half_up():
    rule = CommissionRule(rate=Decimal("0.001"), minimum=200)
    assert rule.commission(100_000) == 200  # 1,000 yuan × 0.1% = ¥1.00 → the minimum ¥2.00
    assert rule.commission(200_000) == 200  # exactly ¥2.00
    assert rule.commission(250_000) == 250
    assert rule.commission(250_050) == 250  # 250.05 fen → 250
    assert rule.commission(250_500) == 251  # 250.5 fen → 251 (half up)
    assert rule.commission(250_499) == 250  # 250.499 → 250
    assert rule.commission(1) == 200


def test_fixed_and_maximum():
    assert CommissionRule(fixed=300).commission(1_000_000) == 300
    rule = CommissionRule(fixed=100, rate=Decimal("0.005"), minimum=200, maximum=5_000)
    assert rule.commission(10_000) == 200  # 100 + 50 = 150 → minimum 200
    assert rule.commission(100_000) == 600  # 100 + 500
    assert rule.commission(10_000_000) == 5_000  # 100 + 50,000 → maximum
    assert rule.commission(30_100) == 251  # 100 + 150.5 → 251
    assert CommissionRule().commission(12_345) == 0


def test_from_settings_and_description():
    rule = CommissionRule.from_settings({"fixed": 0, "rate": "0.001", "min": 200, "max": 0})
    assert rule == CommissionRule(rate=Decimal("0.001"), minimum=200)
    assert rule.describe() == "0.1% of the amount, at least ¥2.00"
    assert CommissionRule(fixed=150, maximum=900, minimum=100).describe() == "¥1.50, at least ¥1.00, at most ¥9.00"
    assert CommissionRule().describe() == "none"


@pytest.mark.parametrize("kwargs", [{"fixed": -1}, {"rate": Decimal("-0.1")}, {"rate": Decimal(1)},
                                    {"minimum": 500, "maximum": 100}])
def test_bad_commission_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        CommissionRule(**kwargs)


def test_withdraw_quote():
    rule = CommissionRule(rate=Decimal("0.001"), minimum=200)
    quote = domain.withdraw_quote(30_000, rule)
    assert (quote.amount, quote.commission, quote.net) == (30_000, 200, 29_800)
    with pytest.raises(AmountError, match=r"more than the commission of ¥2\.00"):
        domain.withdraw_quote(200, rule)
    assert domain.withdraw_quote(201, rule).net == 1


@given(st.integers(1, 10**12), st.integers(0, 10_000), st.decimals("0", "0.05", places=6), st.integers(0, 5_000))
def test_commission_properties(amount, fixed, rate, minimum):
    rule = CommissionRule(fixed=fixed, rate=rate, minimum=minimum)
    commission = rule.commission(amount)
    assert type(commission) is int
    assert commission >= minimum
    exact = fixed + Decimal(amount) * rate
    assert commission == minimum or abs(commission - exact) <= Decimal("0.5")


# -- events and balances --------------------------------------------------------------------------


def test_withdraw_events_debit_exactly_the_amount():
    events = domain.withdraw_events(30_000, 200)
    assert [(e.type, e.amount, e.available_delta) for e in events] == [
        ("WITHDRAW", -29_800, -29_800), ("COMMISSION", -200, -200)]
    assert sum(e.available_delta for e in events) == -30_000
    assert [e.type for e in domain.withdraw_events(30_000, 0)] == ["WITHDRAW"]


def test_balances_after_walks_back_from_the_final_balance():
    events = domain.withdraw_events(30_000, 200)
    assert domain.balances_after(70_000, 0, events) == [(70_200, 0), (70_000, 0)]
    freeze = domain.freeze_events(5_000) + domain.unfreeze_events(2_000)
    assert domain.balances_after(97_000, 3_000, freeze) == [(95_000, 5_000), (97_000, 3_000)]


def test_money_event_checks():
    with pytest.raises(ValueError):
        MoneyEvent("NOPE", 1, 1)
    with pytest.raises(ValueError):
        MoneyEvent("RECHARGE", 1.0, 1)  # type: ignore[arg-type]


def test_event_types_are_unique_and_include_the_issue_list():
    codes = [t.code for t in domain.EVENT_TYPES]
    assert len(codes) == len(set(codes))
    for code in ("RECHARGE", "WITHDRAW", "COMMISSION", "FREEZE", "UNFREEZE", "TENDER", "LOAN_RECEIVED",
                 "REPAYMENT", "RECEIVABLE", "ALLOCATION_DEPOSIT"):
        assert code in codes
    assert not domain.EVENT_TYPE_BY_CODE["FREEZE"].moves_money
