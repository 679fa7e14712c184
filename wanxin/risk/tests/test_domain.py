"""The rules as pure functions: each rule kind hits exactly past its limit, with the figures in
its reason; contradictory and out-of-range values are refused; the score adds up its table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from wanxin.risk import domain
from wanxin.risk.domain import Key, Params

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def rule(key: Key, scope: str = "", action: str = domain.BLOCK, **params) -> domain.Rule:
    return domain.Rule("rule:1", key, scope, action, Params(**params))


def reason(hit: domain.Hit) -> str:
    return hit.template % hit.params


def test_borrow_limit_by_rating_counts_credit_in_use_plus_the_amount():
    limit = rule(Key.BORROW_LIMIT, "A", amount=100_000_00)
    assert domain.evaluate(limit, {"rating": "A", "amount": 60_000_00, "credit_in_use": 40_000_00}) is None
    hit = domain.evaluate(limit, {"rating": "A", "amount": 60_000_01, "credit_in_use": 40_000_00})
    assert hit.action == domain.BLOCK and hit.status == 403
    assert reason(hit) == ("Borrowers rated A may owe at most ¥100,000.00; with this application the borrower "
                           "would owe ¥100,000.01.")
    # Another rating's rule never applies; no rating known: no hit.
    assert domain.evaluate(limit, {"rating": "AA", "amount": 10**9, "credit_in_use": 0}) is None
    assert domain.evaluate(limit, {"rating": None, "amount": 10**9}) is None


def test_concurrent_loans():
    most = rule(Key.CONCURRENT_LOANS, count=2)
    assert domain.evaluate(most, {"loans_running": 1}) is None
    hit = domain.evaluate(most, {"loans_running": 2})
    assert reason(hit) == "A borrower may have at most 2 loans at once; this borrower already has 2."
    assert domain.evaluate(rule(Key.CONCURRENT_LOANS, count=0), {"loans_running": 0}) is not None


def test_age_limits_are_inclusive():
    ages = rule(Key.AGE, action=domain.WARN, min_age=22, max_age=60)
    assert domain.evaluate(ages, {"age": 22}) is None
    assert domain.evaluate(ages, {"age": 60}) is None
    assert reason(domain.evaluate(ages, {"age": 21})) == "Borrowers must be 22 to 60 years old; this one is 21."
    assert domain.evaluate(ages, {"age": 61}).action == domain.WARN
    assert domain.evaluate(ages, {"age": None}) is None


def test_min_score():
    lowest = rule(Key.MIN_SCORE, count=40)
    assert domain.evaluate(lowest, {"score": 40}) is None
    assert reason(domain.evaluate(lowest, {"score": 39})) == ("The borrower score is 39 points, below the lowest "
                                                               "allowed, 40.")


def test_investor_share_exactly_at_the_limit_passes():
    share = rule(Key.INVESTOR_SHARE, percent=Decimal("20"))
    figures = {"loan_amount": 10_000_00, "investor_holding": 1_000_00}
    assert domain.evaluate(share, {**figures, "amount": 1_000_00}) is None  # 20.00 %
    hit = domain.evaluate(share, {**figures, "amount": 1_000_01})
    assert reason(hit) == ("One investor may hold at most 20.00% of a loan; this bid would bring their share to "
                           "20.00% (¥2,000.01 of ¥10,000.00).")
    # A fractional limit compares exactly.
    assert domain.evaluate(rule(Key.INVESTOR_SHARE, percent=Decimal("33.3333")),
                           {"loan_amount": 3, "investor_holding": 0, "amount": 1}) is not None


def test_velocity_counts_the_attempts_let_through_in_the_window():
    per_ip = rule(Key.REGISTRATION_VELOCITY, "ip", count=3, window_minutes=60)
    assert domain.evaluate(per_ip, {"recent": {"ip:60": 2}}) is None
    hit = domain.evaluate(per_ip, {"recent": {"ip:60": 3}})
    assert hit.status == 429
    assert reason(hit) == "At most 3 registrations in 60 minutes from one IP address; this would be number 4."
    sms = rule(Key.SMS_VELOCITY, "phone", count=1, window_minutes=10)
    assert reason(domain.evaluate(sms, {"recent": {"phone:10": 1}})) == (
        "At most 1 text messages in 10 minutes for one phone number; this would be number 2.")
    assert domain.evaluate(sms, {"recent": {}}) is None  # nothing to count by (no phone given)


def test_allocation_limits():
    multiple = rule(Key.ALLOCATION_MULTIPLE, "B", multiple=Decimal("3"))
    assert domain.evaluate(multiple, {"rating": "B", "multiple": "3"}) is None
    assert reason(domain.evaluate(multiple, {"rating": "B", "multiple": "3.5"})) == (
        "Customers rated B may take at most 3 times their deposit; 3.5 times was asked.")
    per_customer = rule(Key.ALLOCATION_PER_CUSTOMER, amount=500_000_00)
    assert domain.evaluate(per_customer, {"amount": 100_000_00, "customer_total": 400_000_00}) is None
    assert domain.evaluate(per_customer, {"amount": 100_000_00, "customer_total": 400_000_01}) is not None
    exposure = rule(Key.ALLOCATION_EXPOSURE, amount=1_000_000_00)
    assert reason(domain.evaluate(exposure, {"amount": 1, "platform_exposure": 1_000_000_00})) == (
        "The platform's total allocation exposure may be at most ¥1,000,000.00; this would bring it to "
        "¥1,000,000.01.")


def test_outcome_is_the_strongest_hit():
    warn = domain.Hit("rule:1", "AGE", domain.WARN, "")
    block = domain.Hit("rule:2", "AGE", domain.BLOCK, "")
    assert domain.outcome([]) == domain.PASS
    assert domain.outcome([warn]) == domain.WARN
    assert domain.outcome([warn, block]) == domain.BLOCK


def good(key: str, scope: str = "", **params):
    return domain.check_rule(key=key, scope=scope, action=domain.BLOCK, params=Params(**params),
                             effective_from=T0, effective_to=None)


@pytest.mark.parametrize(("key", "scope", "params", "field", "message"), [
    ("BORROW_LIMIT", "A", {"amount": -1}, "amount", "cannot be negative"),
    ("BORROW_LIMIT", "Z", {"amount": 1}, "scope", "Unknown credit rating Z"),
    ("BORROW_LIMIT", "", {"amount": 1}, "scope", "Unknown credit rating"),
    ("BORROW_LIMIT", "A", {}, "amount", "Enter a value"),
    ("BORROW_LIMIT", "A", {"amount": 1, "count": 2}, "count", "does not take this value"),
    ("CONCURRENT_LOANS", "", {"count": -1}, "count", "cannot be negative"),
    ("CONCURRENT_LOANS", "A", {"count": 1}, "scope", "has no scope"),
    ("INVESTOR_SHARE", "", {"percent": Decimal("100.01")}, "percent", "at most 100"),
    ("INVESTOR_SHARE", "", {"percent": Decimal("0")}, "percent", "more than 0"),
    ("AGE", "", {"min_age": 60, "max_age": 22}, "max_age", "lowest age (60) is above the highest (22)"),
    ("AGE", "", {"min_age": -1, "max_age": 22}, "min_age", "0 to 120"),
    ("SMS_VELOCITY", "ip", {"count": 0, "window_minutes": 10}, "count", "at least one"),
    ("SMS_VELOCITY", "ip", {"count": 5, "window_minutes": 0}, "window_minutes", "1 minute to 30 days"),
    ("SMS_VELOCITY", "mac", {"count": 5, "window_minutes": 5}, "scope", "per IP address or per phone"),
    ("ALLOCATION_MULTIPLE", "HR", {"multiple": Decimal("-2")}, "multiple", "more than 0"),
    ("NO_SUCH_RULE", "", {}, "key", "Unknown rule kind"),
])
def test_out_of_range_and_contradictory_values_are_refused(key, scope, params, field, message):
    with pytest.raises(domain.RuleInvalid) as info:
        good(key, scope, **params)
    assert info.value.field == field
    assert message in str(info.value)


def test_a_window_must_end_after_it_starts():
    for end in (T0, T0 - dt.timedelta(seconds=1)):
        with pytest.raises(domain.RuleInvalid) as info:
            domain.check_rule(key="CONCURRENT_LOANS", scope="", action=domain.BLOCK, params=Params(count=1),
                              effective_from=T0, effective_to=end)
        assert info.value.field == "effective_to"
    with pytest.raises(domain.RuleInvalid):
        domain.check_rule(key="CONCURRENT_LOANS", scope="", action="MAYBE", params=Params(count=1),
                          effective_from=T0, effective_to=None)


def test_windows_overlap_half_open():
    hour = dt.timedelta(hours=1)
    assert domain.windows_overlap(T0, T0 + hour, T0 + hour / 2, None)
    assert not domain.windows_overlap(T0, T0 + hour, T0 + hour, None)  # back to back
    assert domain.windows_overlap(T0, None, T0 + 100 * hour, T0 + 101 * hour)
    assert not domain.windows_overlap(T0 + hour, None, T0, T0 + hour)


def test_score_adds_the_highest_band_reached_and_each_document_held():
    bands = [domain.Band("INCOME", 0, "", 0), domain.Band("INCOME", 100_000_00, "", 20),
             domain.Band("INCOME", 500_000_00, "", 40), domain.Band("ASSETS", 300_000_00, "", 10),
             domain.Band("AGE", 25, "", 5), domain.Band("AGE", 35, "", 10),
             domain.Band("DOCUMENT", 0, "HOUSE_CERTIFICATE", 15), domain.Band("DOCUMENT", 0, "BANK_STATEMENT", 10)]
    total, lines = domain.score(bands, income=499_999_99, assets=299_999_99, age=35,
                                documents=["BANK_STATEMENT", "ID_CARD_FRONT", "BANK_STATEMENT"])
    assert total == 20 + 0 + 10 + 10
    assert [(line.factor, line.points) for line in lines] == [
        ("INCOME", 20), ("ASSETS", 0), ("AGE", 10), ("DOCUMENT", 10)]
    assert lines[0].band == "≥ ¥100,000.00"


def test_band_checks():
    with pytest.raises(domain.RuleInvalid, match="between -100 and 100"):
        domain.check_band(domain.Band("INCOME", 0, "", 101), documents=["BANK_STATEMENT"])
    with pytest.raises(domain.RuleInvalid, match="Choose a document kind"):
        domain.check_band(domain.Band("DOCUMENT", 0, "PASSPORT", 5), documents=["BANK_STATEMENT"])
    with pytest.raises(domain.RuleInvalid, match="starts at 0 or more"):
        domain.check_band(domain.Band("AGE", 121, "", 5), documents=[])


def test_birth_date_and_age():
    assert domain.birth_date_of("11010519491231002X") == dt.date(1949, 12, 31)
    assert domain.birth_date_of("short") is None
    assert domain.age_on(dt.date(2000, 3, 1), dt.date(2026, 2, 28)) == 25
    assert domain.age_on(dt.date(2000, 3, 1), dt.date(2026, 3, 1)) == 26
