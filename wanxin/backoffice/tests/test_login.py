"""The separate back-office login: operators only, django-axes lockout, audited."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

from wanxin.accounts.models import User
from wanxin.audit.models import AuditLog

from . import factories as f

pytestmark = pytest.mark.django_db
LOGIN = "/backoffice/login"


def login(client, username: str, password: str = f.PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def session_user(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def test_operator_logs_in_and_lands_on_the_dashboard(client):
    operator = f.reviewer()
    response = login(client, operator.username)
    assert (response.status_code, response["Location"]) == (302, "/backoffice/")
    assert session_user(client) == operator.pk
    audit = AuditLog.objects.get()
    assert (audit.action, audit.actor, audit.target_type, audit.target_id, audit.ip) == (
        "auth.login", operator, "accounts.user", str(operator.pk), "127.0.0.1")
    page = client.get("/backoffice/").content.decode()
    assert "Loan reviewer" in page and "Review customer KYC and qualifications" in page
    assert 'href="/backoffice/kyc/"' in page and 'href="/backoffice/operators/"' not in page


def test_customers_are_refused_with_a_clear_message(client):
    customer = f.customer()
    response = login(client, customer.username)
    assert response.status_code == 200
    assert "This login is for Wanxin staff only. Customers log in on the customer site." in response.content.decode()
    assert session_user(client) is None and AuditLog.objects.count() == 0


def test_wrong_password_and_inactive_operators_are_refused(client):
    operator = f.reviewer()
    assert "Please enter a correct username and password" in login(client, operator.username, "nope").content.decode()
    User.objects.filter(pk=operator.pk).update(is_active=False)
    assert login(client, operator.username).status_code == 200
    assert session_user(client) is None and AuditLog.objects.count() == 0


def test_repeated_failures_lock_the_account_out(client, settings):
    operator = f.reviewer()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, operator.username, "wrong-password")
    assert AccessAttempt.objects.get(username=operator.username).failures_since_start == settings.AXES_FAILURE_LIMIT
    response = login(client, operator.username)  # the right password, too late
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE == 429
    assert session_user(client) is None and AuditLog.objects.count() == 0


def test_next_is_followed_only_within_the_site(client):
    operator = f.reviewer()
    response = login(client, operator.username, next="/backoffice/kyc/")
    assert response["Location"] == "/backoffice/kyc/"
    client.logout()
    response = login(client, operator.username, next="https://evil.example/")
    assert response["Location"] == "/backoffice/"


def test_logged_in_operator_skips_the_form(client):
    client.force_login(f.reviewer())
    assert client.get(LOGIN)["Location"] == "/backoffice/"


def test_logout_confirms_then_logs_out_and_audits(client):
    operator = f.reviewer()
    client.force_login(operator)
    assert b"Log out of the back office?" in client.get("/backoffice/logout").content
    assert session_user(client) == operator.pk and AuditLog.objects.count() == 0
    response = client.post("/backoffice/logout")
    assert (response.status_code, response["Location"]) == (302, "/backoffice/login")
    assert session_user(client) is None
    assert list(AuditLog.objects.values_list("action", "actor")) == [("auth.logout", operator.pk)]


def test_a_deactivated_operators_session_stops_working(client):
    operator = f.reviewer()
    client.force_login(operator)
    assert client.get("/backoffice/").status_code == 200
    User.objects.filter(pk=operator.pk).update(is_active=False)
    response = client.get("/backoffice/kyc/")
    assert response["Location"] == "/backoffice/login?next=/backoffice/kyc/"
    assert client.get("/api/v1/backoffice/me").status_code == 401


def test_password_change(client):
    operator = f.reviewer()
    client.force_login(operator)
    response = client.post("/backoffice/password", {"old_password": "wrong", "new_password": "Another-pass-2026",
                                                    "new_password_again": "Another-pass-2026"})
    assert "Your current password is not correct." in response.content.decode()
    response = client.post("/backoffice/password", {"old_password": f.PASSWORD, "new_password": "short",
                                                    "new_password_again": "short"})
    assert "too short" in response.content.decode()
    operator.refresh_from_db()
    assert operator.check_password(f.PASSWORD) and AuditLog.objects.count() == 0
    response = client.post("/backoffice/password", {"old_password": f.PASSWORD, "new_password": "Another-pass-2026",
                                                    "new_password_again": "Another-pass-2026"})
    assert response["Location"] == "/backoffice/"
    operator.refresh_from_db()
    assert operator.check_password("Another-pass-2026")
    assert client.get("/backoffice/").status_code == 200  # the session survives the change
    audit = AuditLog.objects.get()
    assert (audit.action, audit.before, audit.after) == ("operator.password_change", None, None)
