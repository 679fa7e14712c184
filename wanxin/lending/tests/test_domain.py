"""Pure rules of lending: the status tables, application limits, review terms and bids."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.lending import domain
from wanxin.lending.domain import BidRules, RuleError

RULES = BidRules(amount=10_000_00, raised=0, min_investment=100_00, increment=100_00,
                 per_investor_cap=5_000_00, investor_live=0)


def test_status_tables():
    domain.check_move(domain.PROJECT_MOVES, "COLLECTING", "FULL")
    domain.check_move(domain.PROJECT_MOVES, "FULL", "REPAYING")
    for old, new in [("DRAFT", "COLLECTING"), ("REJECTED", "PENDING_REVIEW"), ("MISCARRIED", "COLLECTING"),
                     ("REPAYING", "MISCARRIED"), ("FINISHED", "REPAYING"), ("COLLECTING", "REPAYING")]:
        with pytest.raises(domain.IllegalTransition):
            domain.check_move(domain.PROJECT_MOVES, old, new)
    assert set(domain.PROJECT_MOVES) == set(domain.PROJECT_STATUSES)
    with pytest.raises(domain.IllegalTransition):
        domain.check_move(domain.TENDER_MOVES, "REFUNDED", "LOANED")
    assert set(domain.TENDER_MOVES) == set(domain.TENDER_STATUSES)


@pytest.mark.parametrize("bid,ok", [
    (100_00, True), (5_000_00, True), (0, False), (-100_00, False), (99_99, False), (150_00, False),
    (5_100_00, False), (100.0, False), (True, False), ("10000", False),
])
def test_bid_rules(bid, ok):
    if ok:
        assert domain.check_bid(bid, RULES) == bid
    else:
        with pytest.raises(RuleError):
            domain.check_bid(bid, RULES)


def test_bid_remaining_and_leftover():
    nearly = BidRules(**{**RULES.__dict__, "raised": 9_700_00})
    assert domain.check_bid(300_00, nearly) == 300_00
    assert domain.check_bid(200_00, nearly) == 200_00  # leaves 100: the minimum
    with pytest.raises(RuleError, match="Only"):
        domain.check_bid(400_00, nearly)
    big_min = BidRules(**{**RULES.__dict__, "raised": 9_500_00, "min_investment": 300_00})
    with pytest.raises(RuleError, match="leave"):
        domain.check_bid(300_00, big_min)  # would leave 200 < 300
    with pytest.raises(RuleError, match="per investor"):
        domain.check_bid(1_000_00, BidRules(**{**RULES.__dict__, "investor_live": 4_500_00}))
    with pytest.raises(RuleError, match="fully"):
        domain.check_bid(100_00, BidRules(**{**RULES.__dict__, "raised": 10_000_00}))


def test_a_bid_above_what_remains_says_what_remains():
    """¥999,999,999 is no multiple of ¥100, but what helps is how much is left."""
    with pytest.raises(RuleError) as info:
        domain.check_bid(999_999_999_00, RULES)
    assert info.value.message == "Only ¥10,000.00 remains."
    assert info.value.template == "Only %(remaining)s remains." and info.value.params == {"remaining": "¥10,000.00"}


@given(amount=st.integers(1, 200), raised=st.integers(0, 200), live=st.integers(0, 60), bid=st.integers(-5, 250))
def test_an_accepted_bid_never_overfills_or_strands(amount, raised, live, bid):
    amount *= 100_00
    raised = min(raised * 100_00, amount)
    rules = BidRules(amount=amount, raised=raised, min_investment=300_00, increment=100_00,
                     per_investor_cap=3_000_00, investor_live=live * 100_00)
    try:
        domain.check_bid(bid * 100_00, rules)
    except RuleError:
        return
    left = amount - raised - bid * 100_00
    assert left == 0 or left >= 300_00
    assert live * 100_00 + bid * 100_00 <= 3_000_00


TERMS = domain.Terms(borrower_rate=Decimal("0.12"), investor_rate=Decimal("0.10"), service_fee_rate=Decimal("0.02"),
                     window_days=7, min_investment=100_00, increment=100_00, per_investor_cap=5_000_00)


def test_terms_and_fee():
    domain.check_terms(TERMS, amount=10_000_00)
    with pytest.raises(RuleError) as info:
        domain.check_terms(domain.Terms(**{**TERMS.__dict__, "investor_rate": Decimal("0.121")}), amount=10_000_00)
    assert info.value.field == "investor_rate"
    with pytest.raises(RuleError):
        domain.check_terms(domain.Terms(**{**TERMS.__dict__, "service_fee_rate": Decimal("-0.01")}), amount=100_00)
    assert domain.service_fee(10_000_00, Decimal("0.02")) == 20_000
    assert domain.service_fee(333, Decimal("0.015")) == 5  # 4.995 rounds half up
    assert domain.mask_name("zhangsan") == "z***n" and domain.mask_name("ab") == "a*"
