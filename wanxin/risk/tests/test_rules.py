"""Risk officers' rules: created with effective dates, changed keeping their history, expired;
bad values and overlapping windows refused with nothing changed; only ``manage_risk_rules``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from wanxin.audit import roles
from wanxin.audit.guards import Forbidden
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f
from wanxin.risk import domain, selectors, services
from wanxin.risk.models import RiskRule

from .conftest import make_rule

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def state():
    return (list(RiskRule.objects.order_by("id").values()), AuditLog.objects.count())


@pytest.mark.parametrize(("key", "scope", "params", "code", "message"), [
    ("BORROW_LIMIT", "A", {"amount": -100}, "amount", "An amount limit cannot be negative"),
    ("BORROW_LIMIT", "ZZ", {"amount": 100}, "scope", "Unknown credit rating ZZ"),
    ("INVESTOR_SHARE", "", {"percent": Decimal("120")}, "percent", "at most 100 %"),
    ("CONCURRENT_LOANS", "", {"count": -1}, "count", "A count cannot be negative"),
    ("AGE", "", {"min_age": 70, "max_age": 20}, "max_age", "The lowest age (70) is above the highest (20)."),
    ("REGISTRATION_VELOCITY", "ip", {"count": 3, "window_minutes": -5}, "window_minutes", "1 minute to 30 days"),
])
def test_bad_values_are_refused_and_nothing_changes(officer, key, scope, params, code, message):
    make_rule(officer, "CONCURRENT_LOANS", count=3)
    before = state()
    with pytest.raises(services.RuleRefused) as info:
        make_rule(officer, key, scope, **params)
    assert info.value.code == code and info.value.status == 400
    assert message in info.value.message
    assert state() == before


def test_a_window_ending_before_it_starts_is_refused(officer):
    now = timezone.now()
    with pytest.raises(services.RuleRefused) as info:
        make_rule(officer, "CONCURRENT_LOANS", count=1, start=now + 2 * HOUR, end=now + HOUR)
    assert info.value.code == "effective_to"
    assert info.value.message == "The end of the rule's window must come after its start."
    assert not RiskRule.objects.exists()


def test_overlapping_windows_of_one_rule_key_are_refused(officer):
    now = timezone.now()
    first = make_rule(officer, "BORROW_LIMIT", "A", amount=100_000_00, end=now + 10 * HOUR)
    before = state()
    with pytest.raises(services.RuleRefused) as info:
        make_rule(officer, "BORROW_LIMIT", "A", amount=50_000_00, start=now + 9 * HOUR)
    assert info.value.status == 409
    assert f"Rule #{first.pk} of the same kind (A)" in info.value.message
    assert state() == before
    # Another rating, and a window starting where the first ends, are fine.
    make_rule(officer, "BORROW_LIMIT", "AA", amount=50_000_00, start=now + 9 * HOUR)
    make_rule(officer, "BORROW_LIMIT", "A", amount=50_000_00, start=now + 10 * HOUR)
    assert RiskRule.objects.count() == 3


def test_only_manage_risk_rules_may_change_rules(officer):
    rule = make_rule(officer, "CONCURRENT_LOANS", count=2)
    before = state()
    for actor in (f.operator(roles.LOAN_REVIEWER), f.operator(roles.FINANCE_OFFICER), f.customer(), None):
        with pytest.raises(Forbidden):
            make_rule(actor, "MIN_SCORE", count=10)
        with pytest.raises(Forbidden):
            services.rule_expire(operator=actor, rule_id=rule.pk)
        with pytest.raises(Forbidden):
            services.blacklist_add(operator=actor, kind="MOBILE", value="13900000001")
    assert state() == before
    make_rule(f.operator(roles.SUPER_ADMIN), "MIN_SCORE", count=10)  # the super admin holds it too


def test_the_rule_in_force_is_the_one_whose_window_contains_the_moment(officer):
    now = timezone.now()
    # Rules start now at the earliest; move the first two into the past as time would.
    past = make_rule(officer, "CONCURRENT_LOANS", count=1, start=now + 97 * HOUR, end=now + 98 * HOUR)
    current = make_rule(officer, "CONCURRENT_LOANS", count=2, start=now + 98 * HOUR, end=now + 99 * HOUR)
    RiskRule.objects.filter(pk=past.pk).update(effective_from=now - 3 * HOUR, effective_to=now - HOUR)
    RiskRule.objects.filter(pk=current.pk).update(effective_from=now - HOUR, effective_to=now + HOUR)
    future = make_rule(officer, "CONCURRENT_LOANS", count=3, start=now + HOUR)
    at = {moment: [r.pk for r in selectors.rules_in_force(at=moment)] for moment in
          (now - 2 * HOUR, now - HOUR, now, now + HOUR - dt.timedelta(microseconds=1), now + HOUR, now + 99 * HOUR)}
    assert list(at.values()) == [[past.pk], [current.pk], [current.pk], [current.pk], [future.pk], [future.pk]]
    assert selectors.rules_in_force(at=now - 4 * HOUR) == []


def test_changing_a_rule_in_force_ends_it_and_starts_a_successor(officer):
    rule = make_rule(officer, "INVESTOR_SHARE", percent=Decimal("30"))
    successor = services.rule_change(operator=officer, rule_id=rule.pk, data=services.RuleInput(
        key="IGNORED", scope="", action=domain.WARN, params=domain.Params(percent=Decimal("25"))))
    rule.refresh_from_db()
    assert successor.pk != rule.pk and successor.replaces_id == rule.pk
    assert rule.effective_to == successor.effective_from and rule.percent == Decimal("30")
    assert (successor.key, successor.percent, successor.action) == ("INVESTOR_SHARE", Decimal("25"), domain.WARN)
    assert [r.pk for r in selectors.rules_in_force(at=timezone.now())] == [successor.pk]
    assert list(AuditLog.objects.filter(action__startswith="risk.rule").values_list("action", flat=True)
                .order_by("id")) == ["risk.rule.create", "risk.rule.change", "risk.rule.create"]


def test_a_scheduled_rule_changes_in_place_and_is_withdrawn_when_expired(officer):
    start = timezone.now() + HOUR
    rule = make_rule(officer, "MIN_SCORE", count=30, start=start)
    changed = services.rule_change(operator=officer, rule_id=rule.pk, data=services.RuleInput(
        key="MIN_SCORE", scope="", action=domain.BLOCK, params=domain.Params(count=35), effective_from=start))
    assert changed.pk == rule.pk and RiskRule.objects.get().count == 35
    services.rule_expire(operator=officer, rule_id=rule.pk)
    assert not RiskRule.objects.exists()
    assert AuditLog.objects.filter(action="risk.rule.withdraw").count() == 1


def test_expiring_a_rule_in_force_ends_it_now(officer):
    rule = make_rule(officer, "CONCURRENT_LOANS", count=1)
    services.rule_expire(operator=officer, rule_id=rule.pk)
    rule.refresh_from_db()
    assert rule.state() == "expired"
    assert selectors.rules_in_force(at=timezone.now()) == []
    with pytest.raises(services.Conflict):
        services.rule_expire(operator=officer, rule_id=rule.pk)


def test_a_start_in_the_past_means_now(officer):
    before = timezone.now()
    rule = make_rule(officer, "CONCURRENT_LOANS", count=1, start=before - 5 * HOUR)
    assert before <= rule.effective_from <= timezone.now()
