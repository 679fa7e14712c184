"""Borrower schedules: exact hand-checked cases for every method, then hypothesis
properties (principals add up, no negative part, equal-installment payments equal but for
the last). Pure: no database.

Notation in the working: P principal in fen, r = annual / 12, A the payment, R the remaining
principal, [x] = x rounded half up to the fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wanxin.repayments import domain
from wanxin.repayments.domain import (
    BULLET,
    EQUAL_INSTALLMENT,
    EQUAL_PRINCIPAL,
    INTEREST_FIRST,
    METHODS,
    Period,
    ScheduleError,
    schedule,
)


def rows(periods: list[Period]) -> list[tuple[int, int, int, int]]:
    return [(p.principal, p.interest, p.payment, p.remaining) for p in periods]


# -- equal installment (等额本息) ------------------------------------------------------------------


def test_equal_installment_10000_yuan_12_percent_12_months():
    # P = 1,000,000 fen, r = 0.01, n = 12.
    # A* = P·r·1.01^12 / (1.01^12 − 1) = 10,000 × 1.12682503 / 0.12682503 = 88,848.79 → A = 88,849 (¥888.49).
    # 1: I = [1,000,000 × 0.01] = 10,000;  principal = 88,849 − 10,000 = 78,849;  R = 921,151
    # 2: I = [921,151 × 0.01 = 9,211.51] = 9,212;  principal = 79,637;  R = 841,514
    # 3: I = [8,415.14] = 8,415;  principal 80,434;  R = 761,080
    # ... (each the same way) ...
    # 11: I = [175,065 × 0.01 = 1,750.65] = 1,751;  principal 87,098;  R = 87,967
    # 12 (last): principal = R = 87,967;  I = [879.67] = 880;  payment = 88,847 (2 fen under A).
    assert domain.annuity_payment(1_000_000, Decimal("0.12"), 12) == 88_849
    periods = schedule(1_000_000, Decimal("0.12"), 12, EQUAL_INSTALLMENT)
    assert rows(periods) == [
        (78_849, 10_000, 88_849, 921_151),
        (79_637, 9_212, 88_849, 841_514),
        (80_434, 8_415, 88_849, 761_080),
        (81_238, 7_611, 88_849, 679_842),
        (82_051, 6_798, 88_849, 597_791),
        (82_871, 5_978, 88_849, 514_920),
        (83_700, 5_149, 88_849, 431_220),
        (84_537, 4_312, 88_849, 346_683),
        (85_382, 3_467, 88_849, 261_301),
        (86_236, 2_613, 88_849, 175_065),
        (87_098, 1_751, 88_849, 87_967),
        (87_967, 880, 88_847, 0),
    ]
    assert domain.totals(periods) == domain.Totals(principal=1_000_000, interest=66_186, payment=1_066_186)


def test_equal_installment_1000_yuan_6_percent_3_months_last_interest_rounds_half_up():
    # P = 100,000, r = 0.005, 1.005^3 = 1.015075125.
    # A* = 100,000 × 0.005 × 1.015075125 / 0.015075125 = 507.5375625 / 0.015075125 = 33,667.22 → A = 33,667.
    # 1: I = [500] = 500;            principal 33,167;  R = 66,833
    # 2: I = [334.165] = 334;        principal 33,333;  R = 33,500
    # 3: I = [167.5] = 168 (half up); principal 33,500; payment 33,668 (1 fen over A).
    assert rows(schedule(100_000, Decimal("0.06"), 3, EQUAL_INSTALLMENT)) == [
        (33_167, 500, 33_667, 66_833),
        (33_333, 334, 33_667, 33_500),
        (33_500, 168, 33_668, 0),
    ]


def test_equal_installment_at_zero_rate():
    # A = [10,000 / 3 = 3,333.33] = 3,333; the last period takes 10,000 − 2 × 3,333 = 3,334.
    assert rows(schedule(10_000, Decimal(0), 3, EQUAL_INSTALLMENT)) == [
        (3_333, 0, 3_333, 6_667), (3_333, 0, 3_333, 3_334), (3_334, 0, 3_334, 0)]


def test_equal_installment_one_month_is_principal_plus_one_month_interest():
    # [500,000 × 0.18 / 12 = 7,500] = 7,500.
    assert rows(schedule(500_000, Decimal("0.18"), 1, EQUAL_INSTALLMENT)) == [(500_000, 7_500, 507_500, 0)]


def test_equal_installment_tiny_amount_long_term_never_repays_before_the_last_period():
    # ¥10 over 360 months at 0%: the standard A = [1,000 / 360 = 2.78] = 3 would have repaid
    # 359 × 3 = 1,077 > 1,000 before the last period; the payment falls to 2 (359 × 2 = 718)
    # and the last period takes the remaining 282.
    periods = schedule(1_000, Decimal(0), 360, EQUAL_INSTALLMENT)
    assert domain.annuity_payment(1_000, Decimal(0), 360) == 3
    assert {p.payment for p in periods[:-1]} == {2}
    assert rows(periods[-1:]) == [(282, 0, 282, 0)]


def test_equal_installment_ill_conditioned_long_high_rate_loan_still_exact():
    # ¥10,000 at 36% over 360 months: r = 0.03, A* = 30,000.7: the first period's principal is
    # under a fen; A = 30,001 would repay too early (the 0.3-fen rounding grows ×1.03 a month),
    # so the payment is 30,000 = the monthly interest and the last period repays the principal.
    periods = schedule(1_000_000, Decimal("0.36"), 360, EQUAL_INSTALLMENT)
    assert domain.annuity_payment(1_000_000, Decimal("0.36"), 360) == 30_001
    assert {p.payment for p in periods[:-1]} == {30_000}
    assert periods[-1].principal == 1_000_000
    assert sum(p.principal for p in periods) == 1_000_000


# -- equal principal (等额本金) ----------------------------------------------------------------------


def test_equal_principal_1000_yuan_12_percent_3_months():
    # Principal 100,000 / 3 = 33,333.33 each: largest remainder gives the spare fen to period 1:
    # 33,334 + 33,333 + 33,333.
    # I1 = [100,000 × 0.01] = 1,000;  I2 = [66,666 × 0.01 = 666.66] = 667;  I3 = [333.33] = 333.
    assert rows(schedule(100_000, Decimal("0.12"), 3, EQUAL_PRINCIPAL)) == [
        (33_334, 1_000, 34_334, 66_666),
        (33_333, 667, 34_000, 33_333),
        (33_333, 333, 33_666, 0),
    ]


def test_equal_principal_10000_yuan_12_percent_12_months():
    # 1,000,000 / 12 = 83,333.33: the four spare fen go to periods 1-4 (83,334), then 83,333.
    # I1 = 10,000;  I2 = [916,666 × 0.01 = 9,166.66] = 9,167;  I12 = [83,333 × 0.01 = 833.33] = 833.
    periods = schedule(1_000_000, Decimal("0.12"), 12, EQUAL_PRINCIPAL)
    assert [p.principal for p in periods] == [83_334] * 4 + [83_333] * 8
    assert [p.interest for p in periods] == [10_000, 9_167, 8_333, 7_500, 6_667, 5_833, 5_000, 4_167,
                                             3_333, 2_500, 1_667, 833]
    assert domain.totals(periods).interest == 65_000


# -- interest first (先息后本) and bullet (一次性还本付息) ------------------------------------------------


def test_interest_first_50000_yuan_10_percent_6_months():
    # I = [5,000,000 × 0.10 / 12 = 41,666.67] = 41,667 every month; principal all in month 6.
    periods = schedule(5_000_000, Decimal("0.10"), 6, INTEREST_FIRST)
    assert rows(periods) == [(0, 41_667, 41_667, 5_000_000)] * 5 + [(5_000_000, 41_667, 5_041_667, 0)]
    assert domain.totals(periods).interest == 250_002


def test_bullet_20000_yuan_9_percent_7_months():
    # One period: I = [2,000,000 × 0.09 × 7 / 12 = 105,000] = 105,000, due 7 months after the start.
    periods = schedule(2_000_000, Decimal("0.09"), 7, BULLET, start=dt.date(2025, 1, 15))
    assert periods == [Period(number=1, due=dt.date(2025, 8, 15), principal=2_000_000, interest=105_000,
                              payment=2_105_000, remaining=0)]


def test_interest_of_an_exact_half_fen_rounds_up_even_when_the_monthly_rate_is_inexact():
    # 60 fen × 0.10 / 12 = 0.5 exactly, although 0.10 / 12 = 0.008333…: multiplying first keeps it exact.
    assert domain.interest_for(60, Decimal("0.10")) == 1
    assert domain.interest_for(59, Decimal("0.10")) == 0
    # 50 fen × 12% / 12 = 0.5 → 1 every month.
    assert [p.interest for p in schedule(50, Decimal("0.12"), 2, INTEREST_FIRST)] == [1, 1]


# -- due dates ----------------------------------------------------------------------------------------


def test_due_dates_keep_the_day_of_month_clamped_to_the_month_end():
    periods = schedule(300_000, Decimal("0.12"), 4, EQUAL_PRINCIPAL, start=dt.date(2024, 1, 31))
    assert [p.due for p in periods] == [dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30),
                                        dt.date(2024, 5, 31)]
    assert domain.add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)
    assert schedule(100, Decimal(0), 2, EQUAL_PRINCIPAL)[0].due is None


# -- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ((0, Decimal("0.1"), 12, EQUAL_INSTALLMENT), "amount", "more than zero"),
        ((-1, Decimal("0.1"), 12, EQUAL_INSTALLMENT), "amount", "positive"),
        ((10**12 + 1, Decimal("0.1"), 12, EQUAL_INSTALLMENT), "amount", "at most 1000000000000 fen"),
        ((100.0, Decimal("0.1"), 12, EQUAL_INSTALLMENT), "amount", "whole number of fen"),
        ((True, Decimal("0.1"), 12, EQUAL_INSTALLMENT), "amount", "whole number of fen"),
        ((100, 0.1, 12, EQUAL_INSTALLMENT), "annualRate", "never a float"),
        ((100, Decimal("-0.01"), 12, EQUAL_INSTALLMENT), "annualRate", "not be negative"),
        ((100, Decimal("0.360001"), 12, EQUAL_INSTALLMENT), "annualRate", "at most 0.36"),
        ((100, Decimal("NaN"), 12, EQUAL_INSTALLMENT), "annualRate", "finite"),
        ((100, Decimal("0.1"), 0, EQUAL_INSTALLMENT), "months", "from 1 to 360"),
        ((100, Decimal("0.1"), 361, BULLET), "months", "from 1 to 360"),
        ((100, Decimal("0.1"), 12, "BALLOON"), "method", "Unknown repayment method 'BALLOON'"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(args, field, message):
    with pytest.raises(ScheduleError, match=message) as info:
        schedule(*args)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_limits_are_inclusive():
    assert len(schedule(1, Decimal("0.36"), 360, EQUAL_INSTALLMENT)) == 360
    assert schedule(10**12, Decimal("0.36"), 360, BULLET)[0].interest == 10**12 * 36 // 100 * 30


# -- properties --------------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=10**12)
rates = st.decimals(min_value=0, max_value=Decimal("0.36"), places=6)
terms = st.integers(min_value=1, max_value=360)
methods = st.sampled_from(list(METHODS))


@settings(max_examples=300, deadline=None)
@given(amounts, rates, terms, methods)
def test_principals_add_up_and_nothing_is_negative(amount, rate, months, method):
    periods = schedule(amount, rate, months, method)
    assert sum(p.principal for p in periods) == amount
    assert len(periods) == (1 if method == BULLET else months)
    assert [p.number for p in periods] == list(range(1, len(periods) + 1))
    remaining = amount
    for p in periods:
        assert p.principal >= 0 and p.interest >= 0
        assert p.payment == p.principal + p.interest
        remaining -= p.principal
        assert p.remaining == remaining >= 0
    assert periods[-1].remaining == 0
    # Interest never exceeds the rate on the principal outstanding for the period (+ half a fen).
    opening = amount
    for p in periods:
        span = months if method == BULLET else 1
        assert p.interest <= opening * rate * span / 12 + Decimal("0.5")
        opening -= p.principal


@settings(max_examples=300, deadline=None)
@given(amounts, rates, terms)
def test_equal_installment_payments_differ_only_in_the_last_period(amount, rate, months):
    periods = schedule(amount, rate, months, EQUAL_INSTALLMENT)
    standard = domain.annuity_payment(amount, rate, months)
    payment = domain.equal_installment_payment(amount, rate, months)
    assert {p.payment for p in periods[:-1]} <= {payment}
    assert domain.interest_for(amount, rate) <= payment <= standard
    with localcontext() as ctx:
        ctx.prec = 60
        r = rate / 12
        growth = (1 + r) ** months
        exact = amount * r * growth / (growth - 1) if r else Decimal(amount) / months
        # Σ (1+r)^k for k < m: how far one fen of rounding a period can grow by period m.
        def reach(m):
            return ((1 + r) ** m - 1) / r if r else Decimal(m)
        # Each period's rounding (payment ±½, interest ±½) moves the remaining principal by at
        # most a fen, compounding: after n−1 periods |error| ≤ reach(n−1). When even that error
        # leaves principal for the last period, the standard payment is kept, and the last
        # payment differs from it by at most reach(n).
        if exact / (1 + r) > reach(months - 1):
            assert payment == standard
            assert abs(periods[-1].payment - standard) <= reach(months)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=100_000, max_value=10**10), st.decimals(min_value=0, max_value=Decimal("0.24"), places=4),
       st.integers(min_value=1, max_value=60))
def test_equal_installment_realistic_loans_use_the_standard_payment(amount, rate, months):
    # From ¥1,000, up to 24% and 5 years: the standard payment always, the last within a few fen per period.
    periods = schedule(amount, rate, months, EQUAL_INSTALLMENT)
    standard = domain.annuity_payment(amount, rate, months)
    assert all(p.payment == standard for p in periods[:-1])
    assert abs(periods[-1].payment - standard) <= 2 * months


@settings(max_examples=200, deadline=None)
@given(amounts, rates, terms)
def test_equal_principal_parts_differ_by_at_most_a_fen_and_interest_falls(amount, rate, months):
    periods = schedule(amount, rate, months, EQUAL_PRINCIPAL)
    principals = [p.principal for p in periods]
    assert max(principals) - min(principals) <= 1
    assert principals == sorted(principals, reverse=True)
    interests = [p.interest for p in periods]
    assert interests == sorted(interests, reverse=True)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)), st.integers(1, 360))
def test_due_dates_are_monthly_and_never_drift(start, months):
    periods = schedule(months * 100, Decimal("0.1"), months, EQUAL_PRINCIPAL, start=start)
    for p in periods:
        index = start.month - 1 + p.number
        assert (p.due.year, p.due.month) == (start.year + index // 12, index % 12 + 1)
        assert p.due.day == start.day or (p.due.day < start.day and (p.due + dt.timedelta(days=1)).day == 1)
