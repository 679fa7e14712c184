"""Logging in (password, SMS code), lockout, operators refused, logout, tokens, the profile page."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from wanxin.accounts import services, sms_codes
from wanxin.accounts.auth import token_issue
from wanxin.accounts.models import ApiToken

from .conftest import MOBILE, PASSWORD, last_code, make_customer

pytestmark = pytest.mark.django_db
JSON = "application/json"


def logged_in_as(client):
    return client.session.get("_auth_user_id")


def sms_code(mobile=MOBILE, purpose="login"):
    services.sms_code_request(mobile=mobile, purpose=purpose, ip="10.0.0.1")
    return last_code(mobile)


# -- password: page ------------------------------------------------------------------------


def test_login_page_by_username_and_by_mobile(client, customer):
    page = client.get("/accounts/login")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    answer = client.post("/accounts/login", {"username": "alice", "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == "/accounts/"
    assert logged_in_as(client) == str(customer.pk)
    other = Client()
    assert other.post("/accounts/login", {"username": MOBILE, "password": PASSWORD}).status_code == 302
    assert logged_in_as(other) == str(customer.pk)


def test_login_follows_a_local_next_but_not_an_outside_one(customer):
    local = Client().post("/accounts/login?next=/funds/", {"username": "alice", "password": PASSWORD})
    assert local["Location"] == "/funds/"
    outside = Client().post("/accounts/login", {"username": "alice", "password": PASSWORD,
                                                "next": "https://evil.example/steal"})
    assert outside["Location"] == "/accounts/"


def test_wrong_password_is_refused_with_a_clear_message(client, customer):
    answer = client.post("/accounts/login", {"username": "alice", "password": "wrong-password"})
    assert answer.status_code == 200
    assert "Wrong username or password." in answer.content.decode()
    assert logged_in_as(client) is None
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 1


def test_unknown_user_is_refused_the_same_way(client, db):
    answer = client.post("/accounts/login", {"username": "nobody", "password": "whatever-1"})
    assert "Wrong username or password." in answer.content.decode()


def test_inactive_customer_cannot_log_in(client, customer):
    customer.is_active = False
    customer.save()
    answer = client.post("/accounts/login", {"username": "alice", "password": PASSWORD})
    assert "Wrong username or password." in answer.content.decode() and logged_in_as(client) is None


def test_repeated_failures_lock_the_login_and_say_for_how_long(client, customer, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        answer = client.post("/accounts/login", {"username": "alice", "password": "wrong-password"})
        assert "Wrong username or password." in answer.content.decode()
    locked = client.post("/accounts/login", {"username": "alice", "password": "wrong-password"})
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "this account is locked. Try again in 30 minutes, or log in with an SMS code." in body
    assert 'name="username"' in body  # still the login page
    # The right password is refused while locked, and nothing is logged in.
    still = client.post("/accounts/login", {"username": "alice", "password": PASSWORD})
    assert still.status_code == 429 and "Try again in 30 minutes" in still.content.decode()
    assert logged_in_as(client) is None
    # By mobile number it is the same account, so the same lock.
    by_mobile = client.post("/accounts/login", {"username": MOBILE, "password": PASSWORD})
    assert by_mobile.status_code == 429


def test_lockout_says_the_minutes_actually_left(client, customer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login", {"username": "alice", "password": "wrong-password"})
    AccessAttempt.objects.filter(username="alice").update(attempt_time=timezone.now() - dt.timedelta(minutes=21))
    settings.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # look without extending the lock
    answer = client.post("/accounts/login", {"username": "alice", "password": PASSWORD})
    assert "Try again in 9 minutes" in answer.content.decode()


def test_lockout_ends_after_the_cool_off(client, customer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login", {"username": "alice", "password": "wrong-password"})
    AccessAttempt.objects.filter(username="alice").update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    answer = client.post("/accounts/login", {"username": "alice", "password": PASSWORD})
    assert answer.status_code == 302 and logged_in_as(client) == str(customer.pk)


def test_lockout_is_per_client_so_the_owner_elsewhere_is_not_locked(customer, settings):
    attacker = Client(REMOTE_ADDR="10.6.6.6")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post("/accounts/login", {"username": "alice", "password": "wrong-password"})
    owner = Client(REMOTE_ADDR="10.1.1.1")
    assert owner.post("/accounts/login", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_a_locked_customer_can_still_log_in_by_sms(client, customer, settings, outbox):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login", {"username": "alice", "password": "wrong-password"})
    answer = client.post("/accounts/login/sms", {"mobile": MOBILE, "code": sms_code()})
    assert answer.status_code == 302 and logged_in_as(client) == str(customer.pk)


def test_operator_cannot_log_in_on_the_customer_site(client, operator):
    answer = client.post("/accounts/login", {"username": "op_li", "password": PASSWORD})
    assert answer.status_code == 200
    assert "Operator accounts cannot log in on the customer site" in answer.content.decode()
    assert "/backoffice/login" in answer.content.decode()
    assert logged_in_as(client) is None


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_admin_accounts_are_refused_like_operators(client, db, flag):
    make_customer(username="boss", mobile="13600136000", role="", **{flag: True})
    answer = client.post("/accounts/login", {"username": "boss", "password": PASSWORD})
    assert "Operator accounts cannot log in" in answer.content.decode() and logged_in_as(client) is None


def test_other_logins_get_the_generic_lockout_page(client, customer, settings):
    # The admin's own login (not ours) also goes through axes; it gets a page saying how long.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        answer = client.post("/backoffice/admin/login/", {"username": "alice", "password": "wrong-password"})
    assert answer.status_code == 429
    assert "Try again in 30 minutes." in answer.content.decode()


# -- password: API -------------------------------------------------------------------------


def api_login(client, username="alice", password=PASSWORD, **extra):
    return client.post("/api/v1/accounts/login", {"username": username, "password": password},
                       content_type=JSON, **extra)


def test_api_login_returns_a_working_token(client, customer):
    answer = api_login(client)
    assert answer.status_code == 200
    body = answer.json()
    assert body["user"] == {"username": "alice", "user_no": customer.user_no, "mobile": "138****8000",
                            "role": "INVESTOR", "date_joined": body["user"]["date_joined"]}
    me = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200 and me.json()["username"] == "alice"
    assert ApiToken.objects.filter(user=customer).count() == 1


def test_api_login_refusals(client, customer, operator):
    wrong = api_login(client, password="wrong-password")
    assert wrong.status_code == 401
    assert wrong.json() == {"code": "bad_credentials", "message": "Wrong username or password."}
    op = api_login(client, username="op_li")
    assert op.status_code == 403 and op.json()["code"] == "operator_account"
    assert ApiToken.objects.count() == 0


def test_api_lockout_is_a_429_json_error(client, customer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert api_login(client, password="wrong-password").status_code == 401
    locked = api_login(client, password="wrong-password")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "Try again in 30 minutes" in locked.json()["message"]
    assert api_login(client).status_code == 429
    assert ApiToken.objects.count() == 0


# -- SMS code ------------------------------------------------------------------------------


def test_sms_login_page(client, customer, outbox):
    sent = client.post("/accounts/login/sms", {"mobile": MOBILE, "action": "send_code"})
    assert "Message sent to 138****8000" in sent.content.decode()
    answer = client.post("/accounts/login/sms", {"mobile": MOBILE, "code": last_code(MOBILE)})
    assert answer.status_code == 302 and logged_in_as(client) == str(customer.pk)


def test_sms_login_refuses_reused_wrong_and_unknown(client, customer, outbox):
    code = sms_code()
    wrong = "000000" if code != "000000" else "111111"
    answer = client.post("/accounts/login/sms", {"mobile": MOBILE, "code": wrong})
    assert "Wrong code. 4 tries left." in answer.content.decode() and logged_in_as(client) is None
    assert client.post("/accounts/login/sms", {"mobile": MOBILE, "code": code}).status_code == 302
    again = Client().post("/accounts/login/sms", {"mobile": MOBILE, "code": code})
    assert "already been used" in again.content.decode()
    # A number nobody registered is refused like a registered one that was sent no code.
    unknown = Client().post("/accounts/login/sms", {"mobile": "13500135000", "code": "123456"})
    make_customer(username="bob", mobile="13700137000")
    no_code = Client().post("/accounts/login/sms", {"mobile": "13700137000", "code": "123456"})
    assert "There is no valid code for this number" in unknown.content.decode()
    assert "There is no valid code for this number" in no_code.content.decode()
    assert "No account uses" not in unknown.content.decode()


def test_sms_login_refuses_operators(operator, outbox):
    # An operator's number is never sent a login code; one that has a code anyway is refused.
    sms_codes.code_send(purpose="login", mobile=operator.mobile, ip=None)
    with pytest.raises(services.WanxinError) as info:
        services.customer_authenticate_sms(mobile=operator.mobile, code=last_code(operator.mobile))
    assert info.value.code == "operator_account"


def test_api_sms_login(client, customer, outbox):
    sent = client.post("/api/v1/accounts/sms-code", {"mobile": MOBILE, "purpose": "login"}, content_type=JSON)
    assert sent.status_code == 200
    answer = client.post("/api/v1/accounts/login-sms", {"mobile": MOBILE, "code": last_code(MOBILE)},
                         content_type=JSON)
    assert answer.status_code == 200 and answer.json()["user"]["username"] == "alice"
    reused = client.post("/api/v1/accounts/login-sms", {"mobile": MOBILE, "code": last_code(MOBILE)},
                         content_type=JSON)
    assert reused.status_code == 400 and reused.json()["code"] == "code_used"
    assert ApiToken.objects.count() == 1


# -- tokens, me, logout --------------------------------------------------------------------


def test_me_needs_a_valid_customer_token(client, customer, operator):
    assert client.get("/api/v1/accounts/me").status_code == 401
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
    op_token = token_issue(user=operator)
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {op_token}").status_code == 401
    expired = token_issue(user=customer)
    ApiToken.objects.filter(user=customer).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {expired}").status_code == 401
    fresh = token_issue(user=customer)
    me = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {fresh}")
    assert me.status_code == 200 and me.json()["mobile"] == "138****8000"
    assert MOBILE not in me.content.decode()


def test_api_logout_revokes_the_token_and_only_that_token(client, customer):
    first, second = api_login(client).json()["token"], api_login(client).json()["token"]
    out = client.post("/api/v1/accounts/logout", HTTP_AUTHORIZATION=f"Bearer {first}")
    assert out.status_code == 200 and out.json() == {"logged_out": True, "token_revoked": True}
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert client.post("/api/v1/accounts/logout", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200
    assert ApiToken.objects.filter(user=customer).count() == 1


def test_token_use_is_recorded_at_most_once_a_minute(client, customer):
    key = token_issue(user=customer)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/v1/accounts/me", **auth).status_code == 200
    first = ApiToken.objects.get(user=customer).last_used_at
    assert first is not None
    assert client.get("/api/v1/accounts/me", **auth).status_code == 200
    assert ApiToken.objects.get(user=customer).last_used_at == first, "no write within the minute"
    ApiToken.objects.filter(user=customer).update(last_used_at=first - dt.timedelta(seconds=61))
    assert client.get("/api/v1/accounts/me", **auth).status_code == 200
    assert ApiToken.objects.get(user=customer).last_used_at > first
    customer.is_active = False
    customer.save(update_fields=["is_active"])
    ApiToken.objects.filter(user=customer).update(last_used_at=first - dt.timedelta(seconds=61))
    assert client.get("/api/v1/accounts/me", **auth).status_code == 401
    assert ApiToken.objects.get(user=customer).last_used_at < first, "an inactive user's token is not noted as used"


def test_me_works_with_a_browser_session(client, customer):
    client.post("/accounts/login", {"username": "alice", "password": PASSWORD})
    assert client.get("/api/v1/accounts/me").json()["username"] == "alice"


def test_logout_page_asks_then_logs_out_on_post(client, customer):
    client.post("/accounts/login", {"username": "alice", "password": PASSWORD})
    ask = client.get("/accounts/logout")
    assert ask.status_code == 200 and "Log out?" in ask.content.decode()
    assert logged_in_as(client) == str(customer.pk)
    done = client.post("/accounts/logout")
    assert done.status_code == 302 and done["Location"] == "/"
    assert logged_in_as(client) is None
    assert client.get("/accounts/logout")["Location"] == "/accounts/login"


def test_profile_page_is_for_logged_in_customers_only(client, customer, operator):
    anonymous = client.get("/accounts/")
    assert anonymous.status_code == 302 and anonymous["Location"] == "/accounts/login?next=/accounts/"
    client.force_login(operator)
    refused = client.get("/accounts/")
    assert refused.status_code == 403 and "back office" in refused.content.decode()
    client.force_login(customer)
    page = client.get("/accounts/").content.decode()
    assert customer.user_no in page and "138****8000" in page and MOBILE not in page


def test_openapi_schema_documents_the_accounts_api(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = {p for p in schema["paths"] if p.startswith("/api/v1/accounts/")}
    assert paths == {f"/api/v1/accounts/{name}" for name in
                     ("sms-code", "register", "login", "login-sms", "logout", "password-reset", "me")}
    me = schema["paths"]["/api/v1/accounts/me"]["get"]
    assert me["security"]  # bearer token or session
    assert "429" in schema["paths"]["/api/v1/accounts/login"]["post"]["responses"]
