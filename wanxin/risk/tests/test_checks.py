"""The rule check: every check logged with its inputs and outcome; blacklist entries stored
encrypted and matched by blind index; registration and SMS refused through the accounts screens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from wanxin.accounts import services as accounts
from wanxin.accounts.models import User
from wanxin.accounts.tests.conftest import PASSWORD, last_code, quick_hashing, sms_env  # noqa: F401
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f
from wanxin.fields import blind_index
from wanxin.kyc.models import KycApplication
from wanxin.risk import domain, services
from wanxin.risk.models import BlacklistEntry, RuleCheck

from .conftest import make_rule

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


def test_every_check_is_logged_with_its_inputs_passed_or_not(officer):
    make_rule(officer, "ALLOCATION_EXPOSURE", amount=1_000_000_00)
    make_rule(officer, "ALLOCATION_PER_CUSTOMER", action=domain.WARN, amount=200_000_00)
    figures = {"amount": 100_000_00, "customer_total": 0, "platform_exposure": 0, "multiple": "3"}
    passed = services.rules_check(kind="ALLOCATION", figures=figures)
    warned = services.rules_check(kind="ALLOCATION", figures={**figures, "customer_total": 150_000_00})
    blocked = services.rules_check(kind="ALLOCATION", figures={**figures, "platform_exposure": 950_000_00})
    assert [c.outcome for c in (passed, warned, blocked)] == ["PASS", "WARN", "BLOCK"]
    rows = list(RuleCheck.objects.order_by("id"))
    assert [(r.kind, r.outcome) for r in rows] == [("ALLOCATION", "PASS"), ("ALLOCATION", "WARN"),
                                                  ("ALLOCATION", "BLOCK")]
    assert rows[2].figures == {**figures, "platform_exposure": 950_000_00}
    assert len(rows[0].rules) == 2 and rows[0].hits == []
    assert warned.reasons == ["One customer may hold at most ¥200,000.00 in allocations; this would bring them "
                              "to ¥250,000.00."]
    warned.raise_if_blocked()  # a warning lets the action go on
    with pytest.raises(services.RiskBlocked) as info:
        blocked.raise_if_blocked()
    assert info.value.status == 403
    assert info.value.message == ("Refused by the platform's risk rules: The platform's total allocation exposure "
                                  "may be at most ¥1,000,000.00; this would bring it to ¥1,050,000.00.")


def test_a_rule_out_of_its_window_is_not_consulted(officer):
    rule = make_rule(officer, "ALLOCATION_EXPOSURE", amount=0, start=timezone.now() + dt.timedelta(hours=1))
    figures = {"amount": 1, "platform_exposure": 0}
    assert services.rules_check(kind="ALLOCATION", figures=figures).outcome == "PASS"
    type(rule).objects.filter(pk=rule.pk).update(effective_from=timezone.now() - dt.timedelta(minutes=1))
    assert services.rules_check(kind="ALLOCATION", figures=figures).outcome == "BLOCK"
    type(rule).objects.filter(pk=rule.pk).update(effective_to=timezone.now())
    assert services.rules_check(kind="ALLOCATION", figures=figures).outcome == "PASS"
    assert RuleCheck.objects.count() == 3


def test_blacklisted_numbers_are_stored_encrypted_and_found_by_blind_index(officer):
    entry = services.blacklist_add(operator=officer, kind="ID_NUMBER", value=ID_NUMBER.lower(), note="fraud case 17")
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, value_index FROM risk_blacklistentry WHERE id = %s", [entry.pk])
        stored, index = cursor.fetchone()
    assert ID_NUMBER not in stored and index == blind_index(ID_NUMBER)
    assert BlacklistEntry.objects.get().value == ID_NUMBER and entry.masked == "110***********002X"
    audit = AuditLog.objects.get(action="risk.blacklist.add")
    assert ID_NUMBER not in str(audit.after)
    # The same number again, overlapping: refused, nothing changed.
    with pytest.raises(services.RuleRefused) as info:
        services.blacklist_add(operator=officer, kind="ID_NUMBER", value=ID_NUMBER)
    assert info.value.status == 409 and f"entry #{entry.pk}" in info.value.message
    for kind, value, message in (("ID_NUMBER", "123", "18 characters"), ("MOBILE", "12345", "11 digits"),
                                 ("CARD_NUMBER", "6222021234567890123", "not valid"), ("PASSPORT", "x", "Choose")):
        with pytest.raises(services.RuleRefused, match=message):
            services.blacklist_add(operator=officer, kind=kind, value=value)
    assert BlacklistEntry.objects.count() == 1


def test_a_loan_application_check_matches_the_kyc_id_number_and_logs_it_masked(officer):
    borrower = f.customer()
    KycApplication.objects.create(customer=borrower, status="APPROVED", rating="A", credit_limit=100_000_00,
                                  id_number=ID_NUMBER, id_number_index=blind_index(ID_NUMBER),
                                  annual_income=120_000_00, assets=0)
    services.blacklist_add(operator=officer, kind="ID_NUMBER", value=ID_NUMBER)
    result = services.rules_check(kind="LOAN_APPLICATION", subject=borrower,
                                  figures={"amount": 10_000_00, "loans_running": 0, "credit_in_use": 0})
    assert result.blocked
    assert result.reasons == ["The ID number used is on the platform's blacklist."]
    check = result.check
    assert check.customer == borrower
    assert check.figures["id_number"] == "110***********002X" and ID_NUMBER not in str(check.figures)
    assert check.figures["age"] == domain.age_on(dt.date(1949, 12, 31), timezone.localdate())
    assert check.figures["amount"] == 10_000_00 and check.figures["rating"] == "A"
    # The seeded points table: income ≥ ¥100,000 gives 20, the rest 0 (age ≥ 65 gives 0).
    assert check.figures["score"] == 20


def register(mobile: str, ip: str, username: str):
    accounts.sms_code_request(mobile=mobile, purpose="register", ip=ip)
    return accounts.customer_register(username=username, password=PASSWORD, mobile=mobile, code=last_code(mobile),
                                      role="INVESTOR", ip=ip)


def test_registration_with_a_blacklisted_mobile_is_refused_and_logged(officer):
    services.blacklist_add(operator=officer, kind="MOBILE", value="13800138001")
    with pytest.raises(services.RiskBlocked) as info:
        register("13800138001", "10.1.1.1", "mallory")
    assert info.value.message == ("Refused by the platform's risk rules: The mobile number used is on the "
                                  "platform's blacklist.")
    assert not User.objects.filter(username="mallory").exists()
    check = RuleCheck.objects.get(kind="REGISTRATION")
    assert (check.outcome, check.ip, check.figures) == ("BLOCK", "10.1.1.1", {"mobile": "138****8001", "ip": "10.1.1.1"})
    assert check.phone_index == blind_index("13800138001")
    register("13800138002", "10.1.1.1", "alice")  # another number registers
    assert RuleCheck.objects.filter(kind="REGISTRATION", outcome="PASS").count() == 1


def test_registration_velocity_per_ip(officer):
    make_rule(officer, "REGISTRATION_VELOCITY", "ip", count=2, window_minutes=60)
    register("13800138011", "10.2.2.2", "ann")
    register("13800138012", "10.2.2.2", "bob")
    with pytest.raises(services.RiskBlocked) as info:
        register("13800138013", "10.2.2.2", "cat")
    assert info.value.status == 429
    assert "At most 2 registrations in 60 minutes from one IP address; this would be number 3." in info.value.message
    register("13800138014", "10.3.3.3", "dan")  # another address is not held up
    assert sorted(User.objects.filter(is_operator=False).values_list("username", flat=True)) == ["ann", "bob", "dan"]


def test_sms_velocity_per_phone_and_every_request_logged(officer, sms_env):  # noqa: F811
    make_rule(officer, "SMS_VELOCITY", "phone", count=2, window_minutes=10)
    mobile = "13800138021"
    accounts.sms_code_request(mobile=mobile, purpose="register", ip="10.4.4.4")
    accounts.sms_code_request(mobile=mobile, purpose="login", ip="10.4.4.5")
    with pytest.raises(services.RiskBlocked) as info:
        accounts.sms_code_request(mobile=mobile, purpose="reset_password", ip="10.4.4.6")
    assert info.value.status == 429
    assert "At most 2 text messages in 10 minutes for one phone number; this would be number 3." in info.value.message
    assert list(RuleCheck.objects.filter(kind="SMS").order_by("id").values_list("outcome", "figures__purpose")) == [
        ("PASS", "register"), ("PASS", "login"), ("BLOCK", "reset_password")]
