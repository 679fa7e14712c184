"""Investor receivables: exact split of a hand-checked schedule, then hypothesis properties
(per period the parts add up to the borrower's, per investor to the holding, nothing
negative, the platform's share never negative). Pure: no database."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from wanxin.repayments import domain
from wanxin.repayments.domain import (
    EQUAL_PRINCIPAL,
    METHODS,
    investor_receivables,
    platform_shares,
    schedule,
)


def test_three_investors_hand_checked():
    # Borrower: ¥1,000 at 12%, equal principal over 3 months (see test_schedules):
    #   principal 33,334 / 33,333 / 33,333, interest 1,000 / 667 / 333.
    # Investors A 50,000, B 30,000, C 20,000 fen; investor rate 10%.
    #
    # Period 1, outstanding 50,000 : 30,000 : 20,000 (sum 100,000)
    #   principal 33,334 → 16,667 / 10,000.2 / 6,666.8 → floors 16,667 + 10,000 + 6,666 = 33,333,
    #     the spare fen to C (remainder .8): 16,667 / 10,000 / 6,667.
    #   pool [1,000 × 10/12 = 833.33] = 833 → 416.5 / 249.9 / 166.6 → floors 831, spare 2 to B (.9), C (.6):
    #     416 / 250 / 167; platform 1,000 − 833 = 167.
    # Period 2, outstanding 33,333 : 20,000 : 13,333 (sum 66,666)
    #   principal 33,333 → 16,666.5 / 10,000 / 6,666.5: the spare fen ties at .5, the earlier (A) wins:
    #     16,667 / 10,000 / 6,666.
    #   pool [667 × 10/12 = 555.83] = 556 → 278 / 166.80 / 111.20 → spare fen to B: 278 / 167 / 111;
    #     platform 111.
    # Period 3, outstanding 16,666 : 10,000 : 6,667 (sum 33,333 = the borrower's last principal)
    #   principal: exactly the outstanding: 16,666 / 10,000 / 6,667.
    #   pool [333 × 10/12 = 277.5] = 278 (half up) → 138.996 / 83.40 / 55.60 → floors 276, spare 2 to A, C:
    #     139 / 83 / 56; platform 55.
    periods = schedule(100_000, Decimal("0.12"), 3, EQUAL_PRINCIPAL)
    parts = investor_receivables(periods, {"A": 50_000, "B": 30_000, "C": 20_000}, Decimal("0.10"), Decimal("0.12"))
    table = {k: [(p.principal, p.interest, p.remaining) for p in v] for k, v in parts.items()}
    assert table == {
        "A": [(16_667, 416, 33_333), (16_667, 278, 16_666), (16_666, 139, 0)],
        "B": [(10_000, 250, 20_000), (10_000, 167, 10_000), (10_000, 83, 0)],
        "C": [(6_667, 167, 13_333), (6_666, 111, 6_667), (6_667, 56, 0)],
    }
    assert platform_shares(periods, parts) == [167, 111, 55]
    assert all(p.amount == p.principal + p.interest for v in parts.values() for p in v)


def test_equal_rates_leave_the_platform_nothing_and_investors_everything():
    periods = schedule(1_000_000, Decimal("0.12"), 12, "EQUAL_INSTALLMENT")
    parts = investor_receivables(periods, {1: 333_333, 2: 333_333, 3: 333_334}, Decimal("0.12"), Decimal("0.12"))
    assert platform_shares(periods, parts) == [0] * 12


def test_zero_rates():
    periods = schedule(1_000, Decimal(0), 2, "EQUAL_INSTALLMENT")
    parts = investor_receivables(periods, {"x": 999, "y": 1}, Decimal(0), Decimal(0))
    assert [p.principal for p in parts["y"]] == [0, 1]
    assert all(p.interest == 0 for v in parts.values() for p in v)


def test_due_dates_follow_the_borrower_schedule():
    import datetime as dt

    periods = schedule(10_000, Decimal("0.1"), 2, "INTEREST_FIRST", start=dt.date(2025, 3, 31))
    parts = investor_receivables(periods, {"a": 10_000}, Decimal("0.08"), Decimal("0.1"))
    assert [p.due for p in parts["a"]] == [dt.date(2025, 4, 30), dt.date(2025, 5, 31)]


@pytest.mark.parametrize(
    ("holdings", "investor_rate", "message"),
    [
        ({"a": 500}, Decimal("0.1"), "add up to 500 fen but the schedule's principal is 1000"),
        ({"a": 1_000, "b": 0}, Decimal("0.1"), "positive whole number"),
        ({"a": 999.0, "b": 1}, Decimal("0.1"), "positive whole number"),
        ({}, Decimal("0.1"), "no holdings"),
        ({"a": 1_000}, Decimal("0.13"), "must not be above the borrower rate"),
        ({"a": 1_000}, 0.1, "never a float"),
    ],
)
def test_bad_holdings_or_rates_are_refused(holdings, investor_rate, message):
    periods = schedule(1_000, Decimal("0.12"), 3, EQUAL_PRINCIPAL)
    with pytest.raises(ValueError, match=message):
        investor_receivables(periods, holdings, investor_rate, Decimal("0.12"))


# -- properties ----------------------------------------------------------------------------------

rates = st.decimals(min_value=0, max_value=Decimal("0.36"), places=6)


@st.composite
def loans(draw):
    holdings = draw(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=25))
    months = draw(st.integers(min_value=1, max_value=120))
    method = draw(st.sampled_from(list(METHODS)))
    borrower_rate = draw(rates)
    share = draw(st.decimals(min_value=0, max_value=1, places=4))
    investor_rate = (borrower_rate * share).quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    return holdings, months, method, borrower_rate, investor_rate


@settings(max_examples=300, deadline=None)
@given(loans())
def test_investor_parts_add_up_per_period_and_per_investor(loan):
    holdings, months, method, borrower_rate, investor_rate = loan
    amount = sum(holdings)
    assume(amount <= domain.MAX_AMOUNT)
    periods = schedule(amount, borrower_rate, months, method)
    by_investor = dict(enumerate(holdings))
    parts = investor_receivables(periods, by_investor, investor_rate, borrower_rate)

    assert list(parts) == list(by_investor)
    for key, holding in by_investor.items():
        mine = parts[key]
        assert len(mine) == len(periods)
        assert sum(p.principal for p in mine) == holding  # every investor gets their principal back
        outstanding = holding
        for p in mine:
            assert p.principal >= 0 and p.interest >= 0 and p.amount == p.principal + p.interest
            outstanding -= p.principal
            assert p.remaining == outstanding >= 0
    for index, period in enumerate(periods):
        here = [parts[k][index] for k in by_investor]
        assert sum(p.principal for p in here) == period.principal
        pool = sum(p.interest for p in here)
        assert pool == domain.investor_interest_pool(period.interest, investor_rate, borrower_rate)
        assert 0 <= pool <= period.interest
    shares = platform_shares(periods, parts)
    assert all(s >= 0 for s in shares)
    assert [period.interest - s for period, s in zip(periods, shares, strict=True)] == [
        sum(parts[k][i].interest for k in by_investor) for i in range(len(periods))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**7), min_size=2, max_size=10), rates)
def test_interest_shares_track_holdings_within_a_fen(holdings, rate):
    # Interest-first: every investor's outstanding equals their holding all along, so each
    # month's interest split is the largest-remainder split by holdings: within a fen of exact.
    amount = sum(holdings)
    periods = schedule(amount, rate, 6, "INTEREST_FIRST")
    parts = investor_receivables(periods, dict(enumerate(holdings)), rate, rate)
    for i, holding in enumerate(holdings):
        for p, period in zip(parts[i], periods, strict=True):
            assert abs(p.interest - Decimal(period.interest) * holding / amount) < 1
