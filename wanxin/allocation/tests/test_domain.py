"""Pure rules of allocation, exact values from issue 12 and properties (no database)."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.allocation import domain as d

NATIONAL_DAY_2026 = [dt.date(2026, 10, day) for day in range(1, 8)]  # Thu 1 – Wed 7 October
CAL = d.TradingCalendar(NATIONAL_DAY_2026)
BJ = d.BEIJING

DAILY = d.ProductTerms(type=d.DAILY, rates={2: Decimal("0.0015"), 3: Decimal("0.0018")}, durations=[2, 5, 10],
                       deposit_min=1_000_00, deposit_max=1_000_000_00, risk_fund_rate=Decimal("0.01"),
                       warning_pct=Decimal("0.5"), liquidation_pct=Decimal("0.3"))
MONTHLY = d.ProductTerms(type=d.MONTHLY, rates={3: Decimal("0.012"), 5: Decimal("0.016")},
                         durations=[1, 2, 3, 6], deposit_min=1_000_00, deposit_max=1_000_000_00,
                         risk_fund_rate=Decimal("0.005"), warning_pct=Decimal("0.5"),
                         liquidation_pct=Decimal("0.35"))


def test_the_seed_shaped_products_are_valid():
    assert d.check_product(DAILY) is DAILY
    assert d.check_product(MONTHLY) is MONTHLY


@pytest.mark.parametrize("change,field", [
    ({"liquidation_pct": Decimal("0.5")}, "liquidation_pct"),  # not below the warning line
    ({"liquidation_pct": Decimal("0")}, "liquidation_pct"),
    ({"warning_pct": Decimal("1")}, "warning_pct"),
    ({"warning_pct": Decimal("0.5000001")}, "warning_pct"),
    ({"type": "WEEKLY"}, "type"),
    ({"rates": {}}, "multiples"),
    ({"rates": {0: Decimal("0.001")}}, "multiples"),
    ({"rates": {2: Decimal("-0.001")}}, "rates"),
    ({"durations": [0]}, "durations"),
    ({"durations": [251]}, "durations"),
    ({"deposit_min": 2_000_000_00}, "deposit_min"),
    ({"risk_fund_rate": 0.01}, "risk_fund_rate"),
])
def test_products_that_cannot_work_are_refused(change, field):
    with pytest.raises(d.RuleError) as err:
        d.check_product(d.ProductTerms(**{**DAILY.__dict__, **change}))
    assert err.value.field == field


def test_trading_calendar_skips_weekends_and_holidays():
    assert CAL.between(dt.date(2026, 9, 26), dt.date(2026, 10, 12)) == [
        dt.date(2026, 9, 28), dt.date(2026, 9, 29), dt.date(2026, 9, 30), dt.date(2026, 10, 8),
        dt.date(2026, 10, 9), dt.date(2026, 10, 12)]
    assert CAL.on_or_after(dt.date(2026, 10, 1)) == dt.date(2026, 10, 8)
    assert CAL.after(dt.date(2026, 9, 30)) == dt.date(2026, 10, 8)
    with pytest.raises(d.RuleError) as err:
        d.check_span(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    assert err.value.field == "to"


@pytest.mark.parametrize("approved,start", [
    (dt.datetime(2026, 9, 29, 14, 44, 59, tzinfo=BJ), dt.date(2026, 9, 29)),  # before 14:45: that day
    (dt.datetime(2026, 9, 29, 14, 45, tzinfo=BJ), dt.date(2026, 9, 30)),  # at 14:45: the next trading day
    (dt.datetime(2026, 9, 30, 15, 0, tzinfo=BJ), dt.date(2026, 10, 8)),  # over the National Day holiday
    (dt.datetime(2026, 10, 3, 9, 0, tzinfo=BJ), dt.date(2026, 10, 8)),  # approved on a holiday
    (dt.datetime(2026, 9, 26, 9, 0, tzinfo=BJ), dt.date(2026, 9, 28)),  # a Saturday
    (dt.datetime(2026, 9, 28, 23, 0, tzinfo=dt.UTC), dt.date(2026, 9, 29)),  # 07:00 Beijing on the 29th
    (dt.datetime(2026, 9, 29, 6, 44, tzinfo=dt.UTC), dt.date(2026, 9, 29)),  # 14:44 Beijing
    (dt.datetime(2026, 9, 29, 6, 46, tzinfo=dt.UTC), dt.date(2026, 9, 30)),  # 14:46 Beijing
])
def test_trading_starts_the_day_of_approval_before_1445_else_the_next_trading_day(approved, start):
    assert d.trading_start(approved, CAL) == start


def test_daily_quote_over_a_calendar_with_a_holiday():
    # Asked for Saturday 26 September 2026: trading starts Monday the 28th; five trading days
    # jump the National Day week.
    q = d.quote(DAILY, deposit=1_500_500, multiple=2, duration=5, start=dt.date(2026, 9, 26), calendar=CAL)
    assert q.start == dt.date(2026, 9, 28)
    assert q.allocated == 3_001_000
    assert q.total_capital == 4_501_500
    assert q.risk_fund == 30_010  # rhu(3,001,000 × 0.01)
    assert q.warning_line == 3_751_250  # 3,001,000 + rhu(1,500,500 × 0.5)
    assert q.liquidation_line == 3_451_150  # 3,001,000 + rhu(1,500,500 × 0.3)
    assert q.fee == 4_502  # rhu(3,001,000 × 0.0015 = 4,501.5): half up
    assert [(c.date, c.amount) for c in q.fees] == [
        (dt.date(2026, 9, 28), 4_502), (dt.date(2026, 9, 29), 4_502), (dt.date(2026, 9, 30), 4_502),
        (dt.date(2026, 10, 8), 4_502), (dt.date(2026, 10, 9), 4_502)]
    assert q.fee_total == 22_510
    assert q.pay_now == 1_500_500 + 30_010 + 4_502 == 1_535_012
    assert q.end == dt.date(2026, 10, 9)
    assert d.ends_at(d.DAILY, q.start, 5, CAL) == dt.datetime(2026, 10, 9, 15, 0, tzinfo=BJ)


@pytest.mark.parametrize("start,fees,end", [
    (dt.date(2024, 1, 31), [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)], dt.date(2024, 4, 30)),
    (dt.date(2025, 1, 31), [dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 31)], dt.date(2025, 4, 30)),
])
def test_monthly_quote_from_31_january_across_february(start, fees, end):
    q = d.quote(MONTHLY, deposit=1_000_001, multiple=3, duration=3, start=start, calendar=CAL)
    assert q.start == start  # both are trading days (a Wednesday, a Friday)
    assert q.allocated == 3_000_003
    assert q.total_capital == 4_000_004
    assert q.risk_fund == 15_000  # rhu(15,000.015)
    assert q.warning_line == 3_500_004  # 3,000,003 + rhu(500,000.5)
    assert q.liquidation_line == 3_350_003  # 3,000,003 + rhu(350,000.35)
    assert q.fee == 36_000  # rhu(36,000.036)
    assert [c.date for c in q.fees] == fees
    assert [c.amount for c in q.fees] == [36_000] * 3
    assert q.fee_total == 108_000
    assert q.pay_now == 1_051_001
    assert q.end == end


def test_monthly_anniversaries_count_from_the_original_start():
    days = d.charge_dates(d.MONTHLY, dt.date(2024, 1, 31), 6, CAL)
    assert days == [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30),
                    dt.date(2024, 5, 31), dt.date(2024, 6, 30)]
    assert d.end_date(d.MONTHLY, dt.date(2025, 1, 31), 1, CAL) == dt.date(2025, 2, 28)


def test_a_monthly_start_on_a_weekend_moves_to_the_next_trading_day():
    q = d.quote(MONTHLY, deposit=1_000_00, multiple=5, duration=1, start=dt.date(2026, 10, 3), calendar=CAL)
    assert q.start == dt.date(2026, 10, 8)
    assert q.end == dt.date(2026, 11, 8)
    assert q.fee == 8_000  # 500,000 × 0.016


@pytest.mark.parametrize("kwargs,field", [
    ({"deposit": 999_99}, "deposit"), ({"deposit": 1_000_000_01}, "deposit"), ({"deposit": "100000"}, "deposit"),
    ({"multiple": 4}, "multiple"), ({"multiple": True}, "multiple"), ({"duration": 4}, "duration"),
])
def test_a_choice_the_product_does_not_allow_is_refused(kwargs, field):
    choice = {"deposit": 1_000_00, "multiple": 3, "duration": 2, **kwargs}
    with pytest.raises(d.RuleError) as err:
        d.quote(MONTHLY, start=dt.date(2026, 1, 5), calendar=CAL, **choice)
    assert err.value.field == field


def test_lines_are_recomputed_from_the_whole_deposit_and_allocated():
    # A top-up of 200,000 adds deposit but not allocated; an increase of 100,000 at ×3 adds both.
    before = d.lines(deposit=1_000_001, allocated=3_000_003, warning_pct=Decimal("0.5"),
                     liquidation_pct=Decimal("0.35"))
    after = d.lines(deposit=1_300_001, allocated=3_300_003, warning_pct=Decimal("0.5"),
                    liquidation_pct=Decimal("0.35"))
    assert (before.warning_line, before.liquidation_line) == (3_500_004, 3_350_003)
    assert (after.total_capital, after.warning_line, after.liquidation_line) == (4_600_004, 3_950_004, 3_755_003)


def test_status_from_total_assets_and_the_margin_call_once_per_crossing():
    lines = {"warning_line": 3_751_250, "liquidation_line": 3_451_150}
    assert d.assess(d.IN_PROGRESS, 3_751_251, **lines) == d.Assessment(d.IN_PROGRESS, False, False)
    assert d.assess(d.IN_PROGRESS, 3_751_250, **lines) == d.Assessment(d.WARNING, True, False)  # at the line
    assert d.assess(d.WARNING, 3_700_000, **lines) == d.Assessment(d.WARNING, False, False)  # still under: no SMS
    assert d.assess(d.WARNING, 3_751_251, **lines) == d.Assessment(d.IN_PROGRESS, False, False)  # lifted
    assert d.assess(d.IN_PROGRESS, 3_451_150, **lines) == d.Assessment(d.LIQUIDATION, True, True)
    assert d.assess(d.WARNING, 3_000_000, **lines) == d.Assessment(d.LIQUIDATION, False, True)
    assert d.assess(d.LIQUIDATION, 9_000_000, **lines) == d.Assessment(d.LIQUIDATION, False, False)
    with pytest.raises(d.IllegalTransition):
        d.assess(d.PAID, 1, **lines)


def test_the_status_table():
    assert set(d.MOVES) == set(d.STATUSES)
    path = [d.APPLIED, d.DEPOSIT_PAID, d.PAID, d.APPROVED, d.IN_PROGRESS, d.WARNING, d.IN_PROGRESS,
            d.LIQUIDATION, d.TERMINATION_REQUESTED, d.SETTLEMENT_PROPOSED, d.SETTLED]
    for old, new in itertools.pairwise(path):
        d.check_move(d.MOVES, old, new)
    for old, new in [(d.IN_PROGRESS, d.CANCELLED), (d.SETTLED, d.IN_PROGRESS), (d.LIQUIDATION, d.IN_PROGRESS),
                     (d.APPLIED, d.APPROVED), (d.REJECTED, d.PAID)]:
        with pytest.raises(d.IllegalTransition):
            d.check_move(d.MOVES, old, new)
    assert set(d.REQUEST_MOVES) == set(d.REQUEST_STATUSES)


@pytest.mark.parametrize("change,field", [
    ({"total_assets": -1}, "total_assets"), ({"market_value": 5_000_001}, "market_value"),
    ({"available_cash": 3_000_001}, "available_cash"), ({"day": dt.date(2026, 10, 10)}, "day"),
    ({"day": dt.date(2026, 9, 1)}, "day"), ({"profit_loss": 1.5}, "profit_loss"),
])
def test_absurd_account_statuses_are_refused(change, field):
    good = {"day": dt.date(2026, 10, 9), "total_assets": 5_000_000, "market_value": 2_000_000,
            "available_cash": 3_000_000, "profit_loss": -12_345}
    d.check_account_status(d.AccountStatus(**good), today=dt.date(2026, 10, 9), started=dt.date(2026, 9, 28))
    with pytest.raises(d.RuleError) as err:
        d.check_account_status(d.AccountStatus(**{**good, **change}), today=dt.date(2026, 10, 9),
                               started=dt.date(2026, 9, 28))
    assert err.value.field == field


# -- settlement: total capital 4,000,004; frozen deposit 1,000,001 and risk fund 15,000 ---------------

FROZEN = {"total_capital": 4_000_004, "deposit_frozen": 1_000_001, "risk_fund_frozen": 15_000}


def test_settlement_with_a_profit():
    s = d.settle(final_total_assets=4_200_004, arrears=0, **FROZEN)
    assert s == d.Settlement(settle=200_000, payout=200_000, loss_from_deposit=0, loss_from_risk_fund=0,
                             loss_debt=0, arrears_from_deposit=0, arrears_from_risk_fund=0, arrears_unpaid=0,
                             release_deposit=1_000_001, release_risk_fund=15_000)
    assert d.overall_result(s.settle, 150_000) == 350_000


def test_settlement_with_a_loss_within_the_deposit_and_arrears_taken_after_it():
    s = d.settle(final_total_assets=3_700_004, arrears=36_000, **FROZEN)
    assert s == d.Settlement(settle=-300_000, payout=0, loss_from_deposit=300_000, loss_from_risk_fund=0,
                             loss_debt=0, arrears_from_deposit=36_000, arrears_from_risk_fund=0, arrears_unpaid=0,
                             release_deposit=664_001, release_risk_fund=15_000)
    assert d.overall_result(s.settle, 100_000) == -200_000


def test_settlement_with_a_loss_into_the_risk_fund():
    s = d.settle(final_total_assets=2_995_003, arrears=0, **FROZEN)
    assert s == d.Settlement(settle=-1_005_001, payout=0, loss_from_deposit=1_000_001, loss_from_risk_fund=5_000,
                             loss_debt=0, arrears_from_deposit=0, arrears_from_risk_fund=0, arrears_unpaid=0,
                             release_deposit=0, release_risk_fund=10_000)


def test_settlement_with_arrears_spilling_from_the_deposit_into_the_risk_fund():
    s = d.settle(final_total_assets=3_010_003, arrears=36_000, **FROZEN)
    assert (s.loss_from_deposit, s.arrears_from_deposit, s.arrears_from_risk_fund, s.arrears_unpaid) == (
        990_001, 10_000, 15_000, 11_000)
    assert (s.release_deposit, s.release_risk_fund, s.debt) == (0, 0, 11_000)


def test_settlement_with_a_loss_beyond_both_and_arrears():
    s = d.settle(final_total_assets=2_900_000, arrears=36_000, **FROZEN)
    assert s == d.Settlement(settle=-1_100_004, payout=0, loss_from_deposit=1_000_001, loss_from_risk_fund=15_000,
                             loss_debt=85_003, arrears_from_deposit=0, arrears_from_risk_fund=0,
                             arrears_unpaid=36_000, release_deposit=0, release_risk_fund=0)
    assert s.debt == 121_003


def test_fees_the_balance_cannot_cover_become_arrears():
    assert d.charge_fee(4_502, 4_502) == d.FeeOutcome(paid=4_502, arrears=0)
    assert d.charge_fee(4_502, 4_501) == d.FeeOutcome(paid=0, arrears=4_502)


def test_profit_withdrawal_at_most_above_total_capital():
    assert d.check_profit_withdrawal(200_000, total_assets=4_200_004, total_capital=4_000_004) == 200_000
    with pytest.raises(d.RuleError, match=r"2,000\.00"):
        d.check_profit_withdrawal(200_001, total_assets=4_200_004, total_capital=4_000_004)


def test_exposure_limit_gives_the_figures():
    d.check_exposure(committed=5_000_000, requested=3_000_000, capital_available=10_000_000, share=Decimal("0.8"))
    with pytest.raises(d.RuleError) as err:
        d.check_exposure(committed=5_000_000, requested=3_001_000, capital_available=10_000_000,
                         share=Decimal("0.8"))
    assert "¥80,010.00" in err.value.message and "¥80,000.00" in err.value.message
    assert err.value.params["limit"] == "¥80,000.00"


def test_query_parsing_names_the_field():
    assert d.parse_whole("1500500", "deposit") == 1_500_500
    assert d.parse_date("2024-01-31", "start") == dt.date(2024, 1, 31)
    assert d.parse_date("", "start") is None
    for text in ("-5", "1.5", "1e3", "١٢", "", "99999999999999999"):
        with pytest.raises(d.RuleError) as err:
            d.parse_whole(text, "deposit")
        assert err.value.field == "deposit"
    for text in ("2024-02-30", "24-1-31", "2024-1-31"):
        with pytest.raises(d.RuleError) as err:
            d.parse_date(text, "start")
        assert err.value.field == "start"


# -- properties -------------------------------------------------------------------------------------

pcts = st.tuples(st.integers(1, 999_999), st.integers(1, 999_999)).filter(lambda p: p[0] != p[1]).map(
    lambda p: (Decimal(min(p)) / 1_000_000, Decimal(max(p)) / 1_000_000))


@given(deposit=st.integers(1, 10**11), multiple=st.integers(1, 20), pct=pcts,
       risk=st.integers(0, 1_000_000).map(lambda r: Decimal(r) / 1_000_000))
def test_lines_are_ordered_and_capital_adds_up(deposit, multiple, pct, risk):
    liquidation_pct, warning_pct = pct
    allocated = d.allocated_for(deposit, multiple)
    lines = d.lines(deposit=deposit, allocated=allocated, warning_pct=warning_pct, liquidation_pct=liquidation_pct)
    assert lines.total_capital == deposit + allocated
    assert allocated <= lines.liquidation_line <= lines.warning_line <= lines.total_capital
    assert 0 <= d.risk_fund(allocated, risk) <= allocated
    assert abs(d.risk_fund(allocated, risk) - Decimal(allocated) * risk) <= Decimal("0.5")


amounts = st.integers(0, 10**10)


@given(final=amounts, capital=amounts, deposit=amounts, fund=amounts, arrears=st.integers(0, 10**8))
def test_settlement_parts_add_up_and_are_never_negative(final, capital, deposit, fund, arrears):
    s = d.settle(final_total_assets=final, total_capital=capital, deposit_frozen=deposit,
                 risk_fund_frozen=fund, arrears=arrears)
    parts = [v for v in s.__dict__.values()][1:]
    assert all(v >= 0 for v in parts)
    assert s.settle == final - capital == s.payout - s.loss
    assert s.loss_from_deposit + s.loss_from_risk_fund + s.loss_debt == s.loss
    assert s.loss_from_deposit + s.arrears_from_deposit + s.release_deposit == deposit
    assert s.loss_from_risk_fund + s.arrears_from_risk_fund + s.release_risk_fund == fund
    assert s.arrears_from_deposit + s.arrears_from_risk_fund + s.arrears_unpaid == arrears
    assert s.payout == 0 or s.loss == 0
    # Nothing is left owed while anything stays frozen.
    assert s.debt == 0 or s.release_deposit + s.release_risk_fund == 0


holidays = st.lists(st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)), max_size=40)


@given(start=st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)), duration=st.integers(1, 60), hols=holidays)
def test_daily_charges_fall_on_consecutive_trading_days(start, duration, hols):
    cal = d.TradingCalendar(hols)
    first = cal.on_or_after(start)
    days = d.charge_dates(d.DAILY, first, duration, cal)
    assert len(days) == duration and days[0] == first
    assert all(cal.is_trading_day(day) for day in days)
    assert cal.between(first, days[-1]) == days
    assert d.end_date(d.DAILY, first, duration, cal) == days[-1]


@given(start=st.dates(dt.date(2000, 1, 1), dt.date(2090, 12, 31)), months=st.integers(1, 36))
def test_monthly_charges_keep_the_original_day_or_the_month_end(start, months):
    days = [*d.charge_dates(d.MONTHLY, start, months, CAL), d.end_date(d.MONTHLY, start, months, CAL)]
    for k, day in enumerate(days):
        index = start.year * 12 + start.month - 1 + k
        assert (day.year, day.month) == (index // 12, index % 12 + 1)
        assert day.day == min(start.day, calendar.monthrange(day.year, day.month)[1])


@given(at=st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31)), hols=holidays)
def test_trading_starts_on_a_trading_day_no_later_than_the_next(at, hols):
    cal = d.TradingCalendar(hols)
    approved = at.replace(tzinfo=BJ)
    start = d.trading_start(approved, cal)
    assert cal.is_trading_day(start)
    assert approved.date() <= start <= cal.after(approved.date())
