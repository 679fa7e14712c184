"""The risk officers' pages: each needs ``manage_risk_rules``; bad input answers 400 with the
reason next to the field and changes nothing; the log filters and paginates."""

from __future__ import annotations

import pytest
from django.test import Client

from wanxin.audit import roles
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f
from wanxin.risk import services
from wanxin.risk.models import BlacklistEntry, RiskRule, RuleCheck, ScoreBand

from .conftest import make_rule

pytestmark = pytest.mark.django_db

PAGES = ["/backoffice/risk/", "/backoffice/risk/rules/new/BORROW_LIMIT", "/backoffice/risk/blacklist/",
         "/backoffice/risk/score/", "/backoffice/risk/checks/"]


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_manage_risk_rules(officer):
    rule = make_rule(officer, "CONCURRENT_LOANS", count=2)
    posts = [(f"/backoffice/risk/rules/{rule.pk}/expire", {}), ("/backoffice/risk/blacklist/",
             {"kind": "MOBILE", "value": "13900000001", "action": "BLOCK"}),
             ("/backoffice/risk/rules/new/MIN_SCORE", {"action": "BLOCK", "count": "10"})]
    for role in (roles.LOAN_REVIEWER, roles.FINANCE_OFFICER, roles.ALLOCATION_OPERATOR, roles.CUSTOMER_SERVICE):
        client = client_for(f.operator(role))
        for path in PAGES:
            assert client.get(path).status_code == 403, (role, path)
        for path, data in posts:
            assert client.post(path, data).status_code == 403, (role, path)
    customer = client_for(f.customer())
    assert customer.get(PAGES[0]).status_code == 302  # to the back-office login
    assert RiskRule.objects.count() == 1 and not BlacklistEntry.objects.exists()
    officer_client = client_for(officer)
    for path in PAGES:
        assert officer_client.get(path).status_code == 200, path


@pytest.mark.parametrize(("data", "message"), [
    ({"scope": "A", "action": "BLOCK", "amount": "-1"}, "An amount limit cannot be negative"),
    ({"scope": "Q", "action": "BLOCK", "amount": "100"}, "Select a valid choice"),
    ({"scope": "A", "action": "BLOCK", "amount": "100", "effective_from": "2030-01-02T10:00",
      "effective_to": "2030-01-01T10:00"}, "The end of the rule&#x27;s window must come after its start."),
    ({"scope": "A", "action": "BLOCK", "amount": "100", "effective_from": "9999-12-31T10:00"}, "Choose a date between"),
])
def test_bad_rule_input_answers_400_and_changes_nothing(officer, data, message):
    response = client_for(officer).post("/backoffice/risk/rules/new/BORROW_LIMIT", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RiskRule.objects.exists() and not AuditLog.objects.filter(action__startswith="risk.").exists()


def test_share_over_100_and_overlap_refused_on_the_page(officer):
    client = client_for(officer)
    response = client.post("/backoffice/risk/rules/new/INVESTOR_SHARE", {"action": "BLOCK", "percent": "100.5"})
    assert response.status_code == 400 and "at most 100 %" in response.content.decode()
    assert client.post("/backoffice/risk/rules/new/INVESTOR_SHARE", {"action": "BLOCK", "percent": "25"}).status_code == 302
    response = client.post("/backoffice/risk/rules/new/INVESTOR_SHARE", {"action": "WARN", "percent": "10"})
    assert response.status_code == 400 and "overlaps this window" in response.content.decode()
    assert list(RiskRule.objects.values_list("percent", flat=True)) == [25]
    assert client.get("/backoffice/risk/rules/new/NOPE").status_code == 404


def test_change_a_rule_in_force_from_its_page(officer):
    rule = make_rule(officer, "CONCURRENT_LOANS", count=2)
    client = client_for(officer)
    assert "value=\"2\"" in client.get(f"/backoffice/risk/rules/{rule.pk}").content.decode()
    response = client.post(f"/backoffice/risk/rules/{rule.pk}", {"action": "BLOCK", "count": "3"})
    assert response.status_code == 302
    assert list(RiskRule.objects.order_by("id").values_list("count", "replaces")) == [(2, None), (3, rule.pk)]


def test_blacklist_page_adds_masks_and_expires(officer):
    client = client_for(officer)
    response = client.post("/backoffice/risk/blacklist/", {"kind": "CARD_NUMBER", "value": "6222 0212 3456 7890 120",
                                                          "action": "BLOCK", "note": "stolen"})
    assert response.status_code == 400 and "not valid" in response.content.decode()
    response = client.post("/backoffice/risk/blacklist/", {"kind": "MOBILE", "value": "13912345678", "action": "BLOCK"})
    assert response.status_code == 302
    page = client.get("/backoffice/risk/blacklist/").content.decode()
    assert "139****5678" in page and "13912345678" not in page
    assert "139****5678" in client.get("/backoffice/risk/blacklist/?value=13912345678").content.decode()
    entry = BlacklistEntry.objects.get()
    assert client.post(f"/backoffice/risk/blacklist/{entry.pk}/expire").status_code == 302
    entry.refresh_from_db()
    assert entry.state() == "expired"


def test_points_table_page_changes_a_row_and_refuses_out_of_range(officer):
    client = client_for(officer)
    band = ScoreBand.objects.get(factor="INCOME", lower=100_000_00)
    response = client.post("/backoffice/risk/score/", {"band": band.pk, "factor": "INCOME", "lower": "100000.00",
                                                       "points": "25"})
    assert response.status_code == 302
    band.refresh_from_db()
    assert band.points == 25
    response = client.post("/backoffice/risk/score/", {"factor": "AGE", "lower": "30", "points": "500"})
    assert response.status_code == 400 and "Points are between -100 and 100." in response.content.decode()
    response = client.post("/backoffice/risk/score/", {"factor": "AGE", "lower": "25", "points": "1"})
    assert response.status_code == 400 and "already has a row" in response.content.decode()
    assert AuditLog.objects.filter(action="risk.score.save").count() == 1
    # The band's start is typed like every money input (YuanField): "¥100,000" is read, "1e5" is not.
    response = client.post("/backoffice/risk/score/", {"band": band.pk, "factor": "INCOME", "lower": "¥100,000",
                                                       "points": "30"})
    assert response.status_code == 302
    band.refresh_from_db()
    assert (band.lower, band.points) == (100_000_00, 30)
    response = client.post("/backoffice/risk/score/", {"factor": "INCOME", "lower": "1e5", "points": "1"})
    assert response.status_code == 400 and "Enter the amount in yuan" in response.content.decode()


def test_the_check_log_filters_and_paginates(officer):
    make_rule(officer, "ALLOCATION_EXPOSURE", amount=100)
    for exposure in range(60):
        services.rules_check(kind="ALLOCATION", figures={"amount": 1, "platform_exposure": exposure + 70})
    client = client_for(officer)
    blocked = RuleCheck.objects.filter(outcome="BLOCK").count()
    assert blocked == 30
    page = client.get("/backoffice/risk/checks/?outcome=BLOCK&kind=ALLOCATION").content.decode()
    assert page.count('class="hit BLOCK"') == 30
    assert "this would bring it to ¥1.01" in page
    page = client.get("/backoffice/risk/checks/").content.decode()
    assert "Page 1 of 2 · 60 rows" in page
    assert "Page 2 of 2" in client.get("/backoffice/risk/checks/?page=2").content.decode()
    assert client.get("/backoffice/risk/checks/?date_from=9999-12-31&outcome=NOPE").status_code == 200
