"""Penalty interest, aging buckets, overdue days, prepayment and XIRR. Pure: no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.repayments import domain
from wanxin.repayments.domain import aging_bucket, overdue_days, penalty, prepayment, xirr

# -- penalty ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "daily_rate", "days", "expected"),
    [
        (88_849, Decimal("0.0005"), 10, 444),  # 88,849 × 0.0005 × 10 = 444.245 → 444
        (88_849, Decimal("0.0005"), 45, 1_999),  # × 45 = 1,999.1025 → 1,999
        (1_000, Decimal("0.0005"), 1, 1),  # 0.5 → 1 (half up)
        (999, Decimal("0.0005"), 1, 0),  # 0.4995 → 0
        (1_000_000, Decimal("0.0003"), 91, 27_300),  # 300 a day, simple, not compounded
        (1_000_000, Decimal("0.0003"), 0, 0),
        (0, Decimal("0.0003"), 30, 0),
    ],
)
def test_penalty_exact(amount, daily_rate, days, expected):
    assert penalty(amount, daily_rate, days) == expected


@pytest.mark.parametrize(("args", "message"), [
    ((-1, Decimal("0.0005"), 1), "overdue amount"),
    ((100.0, Decimal("0.0005"), 1), "overdue amount"),
    ((100, Decimal("0.0005"), -1), "Days overdue"),
    ((100, 0.0005, 1), "never a float"),
    ((100, Decimal("-0.1"), 1), "not be negative"),
])
def test_penalty_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        penalty(*args)


@given(st.integers(0, 10**12), st.decimals(min_value=0, max_value=Decimal("0.01"), places=6), st.integers(0, 3650))
def test_penalty_is_within_half_a_fen_and_grows_with_the_days(amount, rate, days):
    value = penalty(amount, rate, days)
    assert abs(value - amount * rate * days) <= Decimal("0.5")
    assert penalty(amount, rate, days + 1) >= value  # a daily job books the difference, never negative


# -- overdue days and aging -----------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "bucket"), [
    (-5, None), (0, None), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
    (90, "61-90"), (91, "90+"), (1000, "90+"),
])
def test_aging_buckets(days, bucket):
    assert aging_bucket(days) == bucket


def test_overdue_days_count_from_the_due_date_once_the_grace_days_have_passed():
    due = dt.date(2025, 3, 10)
    assert overdue_days(due, dt.date(2025, 3, 10)) == 0
    assert overdue_days(due, dt.date(2025, 3, 11)) == 1
    assert overdue_days(due, dt.date(2025, 3, 13), grace_days=3) == 0  # within grace: not overdue
    assert overdue_days(due, dt.date(2025, 3, 14), grace_days=3) == 4  # then counted from the due date
    assert overdue_days(due, dt.date(2025, 3, 1), grace_days=3) == 0
    with pytest.raises(ValueError, match="Grace days"):
        overdue_days(due, due, grace_days=-1)


# -- prepayment -------------------------------------------------------------------------------------


def test_prepayment_exact():
    # 500,000 × 0.12 × 15 / 360 = 2,500 exactly; fee 500,000 × 1% = 5,000.
    assert prepayment(500_000, Decimal("0.12"), 15, Decimal("0.01")) == (500_000, 2_500, 5_000)
    # 333,333 × 0.10 × 7 / 360 = 648.1475 → 648; fee 333,333 × 0.005 = 1,666.665 → 1,667 (half up).
    quote = prepayment(333_333, Decimal("0.10"), 7, Decimal("0.005"))
    assert (quote.principal, quote.interest_to_date, quote.fee) == (333_333, 648, 1_667)
    assert quote.total == 335_648
    # On the due date itself: no interest to date.
    assert prepayment(100_000, Decimal("0.2"), 0, Decimal(0)) == (100_000, 0, 0)


@pytest.mark.parametrize(("args", "message"), [
    ((-1, Decimal("0.1"), 3, Decimal(0)), "remaining principal"),
    ((100, Decimal("0.1"), -3, Decimal(0)), "Days since"),
    ((100, Decimal("0.5"), 3, Decimal(0)), "at most 0.36"),
    ((100, Decimal("0.1"), 3, Decimal(1)), "below 1"),
    ((100, Decimal("0.1"), 3, 0.01), "never a float"),
])
def test_prepayment_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        prepayment(*args)


# -- XIRR ------------------------------------------------------------------------------------------------


def _npv(flows, rate):
    first = min(d for d, _ in flows)
    return sum(Decimal(a) / (1 + rate) ** (Decimal((d - first).days) / 365) for d, a in flows)


def test_xirr_of_the_spreadsheet_example():
    # The classic XIRR example (Excel's documentation): 37.34% a year (Excel shows 0.373362535,
    # its own iteration stops at 1e-8).
    flows = [(dt.date(2008, 1, 1), -1_000_000), (dt.date(2008, 3, 1), 275_000), (dt.date(2008, 10, 30), 425_000),
             (dt.date(2009, 2, 15), 325_000), (dt.date(2009, 4, 1), 275_000)]
    rate = xirr(flows)
    assert rate == Decimal("0.3733625335")
    assert abs(_npv(flows, rate)) < Decimal("0.001")


def test_xirr_simple_cases():
    # 365 days apart: exactly 10% / −10% / 0%.
    assert xirr([(dt.date(2021, 1, 1), -10_000), (dt.date(2022, 1, 1), 11_000)]) == Decimal("0.1")
    assert xirr([(dt.date(2021, 1, 1), -10_000), (dt.date(2022, 1, 1), 9_000)]) == Decimal("-0.1")
    assert xirr([(dt.date(2021, 1, 1), -10_000), (dt.date(2022, 1, 1), 10_000)]) == 0
    # Order does not matter; zero flows are ignored; days count from the earliest flow.
    assert xirr([(dt.date(2022, 1, 1), 11_000), (dt.date(2021, 6, 1), 0), (dt.date(2021, 1, 1), -10_000)]) == Decimal("0.1")
    # Two years of 365 days: (1 + x)^2 = 1.21.
    assert xirr([(dt.date(2021, 1, 1), -100_000), (dt.date(2023, 1, 1), 121_000)]) == Decimal("0.1")
    # Across a leap day: 731 days, (1 + x)^(731/365) = 1.21, x = e^(ln 1.21 × 365/731) − 1 = 0.09985658773…
    assert xirr([(dt.date(2023, 1, 1), -100_000), (dt.date(2025, 1, 1), 121_000)]) == Decimal("0.0998565877")


def test_xirr_of_an_equal_installment_loan_is_its_effective_annual_rate():
    # ¥10,000 lent at 12%, 12 monthly payments of ¥888.49: about (1.01)^12 − 1 = 12.68% a year
    # (calendar months are not exactly 365/12 days, hence the tolerance).
    from wanxin.repayments.domain import schedule

    start = dt.date(2025, 1, 15)
    periods = schedule(1_000_000, Decimal("0.12"), 12, "EQUAL_INSTALLMENT", start=start)
    rate = xirr([(start, -1_000_000)] + [(p.due, p.payment) for p in periods])
    assert abs(rate - Decimal("0.126825")) < Decimal("0.002")


def test_xirr_none_when_there_is_no_root():
    assert xirr([]) is None
    assert xirr([(dt.date(2021, 1, 1), -100)]) is None
    assert xirr([(dt.date(2021, 1, 1), -100), (dt.date(2022, 1, 1), -100)]) is None  # all same sign
    assert xirr([(dt.date(2021, 1, 1), 100), (dt.date(2022, 1, 1), 0)]) is None
    # A hundredfold in one day: beyond any rate we search.
    assert xirr([(dt.date(2021, 1, 1), -100), (dt.date(2021, 1, 2), 10_000)]) is None
    with pytest.raises(ValueError, match="whole fen"):
        xirr([(dt.date(2021, 1, 1), -100.0), (dt.date(2022, 1, 1), 110)])


def test_xirr_bisection_agrees_with_newton():
    flows = [(Decimal(0), Decimal(-1_000_000)), (Decimal(1), Decimal(300_000)), (Decimal(2), Decimal(900_000))]
    newton = domain._newton(flows, Decimal(2_200_000))
    bisect = domain._bisect(flows)
    assert newton is not None and bisect is not None
    assert abs(newton - bisect) < Decimal("1e-12")
    # Borrowing 100 and repaying 50 a year later: from 10% Newton's first step jumps below −100%
    # and it gives up; bisection finds −50%.
    flows = [(Decimal(0), Decimal(100)), (Decimal(1), Decimal(-50))]
    assert domain._newton(flows, Decimal(150)) is None
    assert xirr([(dt.date(2021, 1, 1), 100), (dt.date(2022, 1, 1), -50)]) == Decimal("-0.5")
    # Far from the start (a 5,000% year) still converges.
    assert xirr([(dt.date(2021, 1, 1), -100), (dt.date(2022, 1, 1), 5_100)]) == Decimal(50)


@given(st.integers(1, 10**9), st.integers(-900, 3000), st.integers(30, 2000))
def test_xirr_recovers_the_rate_of_a_single_payback(invested, permille, days):
    # Invest, get back invested × (1 + rate)^(days/365): XIRR finds rate (to rounding of the fen).
    rate = Decimal(permille) / 1000
    start = dt.date(2020, 1, 1)
    back = int((invested * (1 + rate) ** (Decimal(days) / 365)).to_integral_value())
    if back <= 0:
        return
    found = xirr([(start, -invested), (start + dt.timedelta(days=days), back)])
    assert found is not None
    # One fen of rounding on the payback moves the rate by at most about (1+rate)·365/(days·back).
    assert abs(found - rate) <= (1 + rate) * 365 / (days * Decimal(back)) * 2 + Decimal("1e-9")
