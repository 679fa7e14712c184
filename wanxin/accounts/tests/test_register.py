"""Registration: the service, the page and the API."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from wanxin.accounts import services
from wanxin.accounts.models import User

from .conftest import MOBILE, PASSWORD, last_code, make_customer

pytestmark = pytest.mark.django_db


def code_for(mobile=MOBILE, purpose="register", ip="10.0.0.1"):
    services.sms_code_request(mobile=mobile, purpose=purpose, ip=ip)
    return last_code(mobile)


def register(**overrides):
    data = {"username": "alice", "password": PASSWORD, "mobile": MOBILE, "role": "INVESTOR"}
    data.update(overrides)
    if "code" not in data:
        data["code"] = code_for(data["mobile"])
    return services.customer_register(**data)


def refused(expected, **kwargs):
    with pytest.raises(services.WanxinError) as info:
        register(**kwargs)
    assert info.value.code == expected, info.value.message
    return info.value


def users():
    return list(User.objects.order_by("id").values_list("username", "mobile", "role"))


# -- service -------------------------------------------------------------------------------


def test_register_creates_exactly_one_customer():
    user = register(role="BOTH")
    user.refresh_from_db()
    assert users() == [("alice", MOBILE, "BOTH")]
    assert re.fullmatch(r"WX[0-9A-F]{14}", user.user_no)
    assert user.password.startswith("argon2$") and user.check_password(PASSWORD)
    assert (user.is_operator, user.is_staff, user.is_superuser, user.is_active) == (False, False, False, True)
    assert user.is_customer


def test_customer_numbers_are_unique():
    numbers = {register(username=f"user{n}", mobile=f"1380013801{n}").user_no for n in range(8)}
    assert len(numbers) == 8


@pytest.mark.parametrize(("password", "says"), [
    ("short1!", "too short"),
    ("password123", "too common"),
    ("73829104657", "entirely numeric"),
    ("alice-smith", "too similar to the username"),
])
def test_weak_passwords_are_refused_and_the_code_stays_usable(password, says):
    code = code_for()
    error = refused("weak_password", username="alice-smith", password=password, code=code)
    assert error.field == "password" and says in error.message
    assert users() == []
    register(code=code)  # same code, good password
    assert users() == [("alice", MOBILE, "INVESTOR")]


@pytest.mark.parametrize(("username", "says"), [
    ("al", "3 to 30 characters"),
    ("a" * 31, "3 to 30 characters"),
    ("alice smith", "letters, digits"),
    ("alice<script>", "letters, digits"),
    ("13912345678", "cannot be only digits"),
])
def test_invalid_usernames_are_refused(username, says):
    code = code_for()
    error = refused("invalid_username", username=username, code=code)
    assert error.field == "username" and says in error.message
    assert users() == []


def test_duplicate_username_is_refused_case_insensitively_and_the_code_stays_usable():
    make_customer(username="Alice", mobile="13900139000")
    code = code_for()
    error = refused("username_taken", username="alice", code=code)
    assert error.status == 409 and error.field == "username"
    assert users() == [("Alice", "13900139000", "INVESTOR")]
    register(username="alice2", code=code)


def test_duplicate_mobile_is_refused():
    # A registered number is never sent a code, so only a number registered after its code was
    # sent reaches this check; without a code the answer is about the code and tells nothing.
    code = code_for()
    make_customer(username="first", mobile=MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    assert refused("code_wrong", username="second", code=wrong).field == "code"
    error = refused("mobile_taken", code=code)
    assert error.status == 409 and error.field == "mobile"
    assert users() == [("first", MOBILE, "INVESTOR")]


@pytest.mark.parametrize("mobile", ["", "1380013800", "23800138000", "138-0013-8000"])
def test_malformed_mobile_is_refused(mobile):
    error = refused("invalid_mobile", mobile=mobile, code="123456")
    assert error.field == "mobile" and users() == []


def test_invalid_role_is_refused():
    refused("invalid_role", role="LENDER", code="123456")
    assert users() == []


def test_wrong_and_reused_codes_create_nothing():
    code = code_for()
    wrong = "000000" if code != "000000" else "111111"
    error = refused("code_wrong", code=wrong)
    assert error.field == "code" and error.message == "Wrong code. 4 tries left."
    assert users() == []
    register(code=code)
    # The same code cannot register a second account (its number is now taken anyway).
    refused("code_used", username="bob", code=code)
    assert users() == [("alice", MOBILE, "INVESTOR")]


def test_a_code_for_another_number_does_not_register():
    other = code_for(mobile="13900139000")
    refused("code_expired", code=other)
    assert users() == []


# -- page ----------------------------------------------------------------------------------


def form(**overrides):
    data = {"username": "alice", "password": PASSWORD, "password_confirm": PASSWORD, "role": "INVESTOR",
            "mobile": MOBILE, "code": ""}
    data.update(overrides)
    return data


def test_register_page_shows_a_csrf_protected_form(client):
    page = client.get("/accounts/register")
    body = page.content.decode()
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in body
    for name in ("username", "password", "password_confirm", "role", "mobile", "code"):
        assert f'name="{name}"' in body
    assert 'hx-post="/accounts/sms-code"' in body


def test_register_through_the_page_without_javascript(client, outbox):
    sent = client.post("/accounts/register", form(action="send_code"))
    assert sent.status_code == 200
    body = sent.content.decode()
    assert "Message sent to 138****8000" in body
    assert 'value="alice"' in body and PASSWORD not in body  # kept the username, not the password
    done = client.post("/accounts/register", form(code=last_code(MOBILE)))
    assert done.status_code == 302 and done["Location"] == "/accounts/"
    profile = client.get("/accounts/").content.decode()
    assert "alice" in profile and "138****8000" in profile and MOBILE not in profile
    assert "Investor" in profile
    assert users() == [("alice", MOBILE, "INVESTOR")]


def test_send_code_button_with_htmx_answers_a_status_line(client, outbox):
    ok = client.post("/accounts/sms-code", {"mobile": MOBILE, "purpose": "register"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and "Message sent to 138****8000" in ok.content.decode()
    assert len(outbox) == 1
    again = client.post("/accounts/sms-code", {"mobile": MOBILE, "purpose": "register"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and "ask for another in" in again.content.decode()
    bad = client.post("/accounts/sms-code", {"mobile": "12345", "purpose": "register"}, HTTP_HX_REQUEST="true")
    assert "11 digits" in bad.content.decode() and 'data-ok="0"' in bad.content.decode()
    assert len(outbox) == 1


def test_send_code_without_htmx_redirects_back_with_a_message(client, outbox):
    answer = client.post("/accounts/sms-code", {"mobile": MOBILE, "purpose": "register"}, follow=True)
    assert answer.redirect_chain == [("/accounts/register", 302)]
    assert "Message sent to 138****8000" in answer.content.decode()


def test_register_page_shows_each_error_in_place(client, outbox):
    weak = client.post("/accounts/register", form(password="12345678", password_confirm="12345678",
                                                  code="123456"))
    assert weak.status_code == 200 and "This password is too common." in weak.content.decode()
    differ = client.post("/accounts/register", form(password_confirm="Other-Pass-99", code="123456"))
    assert "The two passwords differ." in differ.content.decode()
    no_code = client.post("/accounts/register", form(code="123456"))
    assert "There is no valid code for this number" in no_code.content.decode()
    assert users() == [] and "_auth_user_id" not in client.session


def test_register_page_refuses_a_post_without_csrf_token(outbox):
    client = Client(enforce_csrf_checks=True)
    answer = client.post("/accounts/register", form(code=code_for()))
    assert answer.status_code == 403
    assert users() == []


# -- API -----------------------------------------------------------------------------------


def test_register_through_the_api_returns_a_token_that_works(client, outbox):
    sent = client.post("/api/v1/accounts/sms-code", {"mobile": MOBILE, "purpose": "register"},
                       content_type="application/json")
    assert sent.status_code == 200
    assert sent.json() == {"mobile": "138****8000", "purpose": "register", "expires_in": 300, "resend_after": 60}
    created = client.post("/api/v1/accounts/register",
                          {"username": "alice", "password": PASSWORD, "mobile": MOBILE,
                           "code": last_code(MOBILE), "role": "BORROWER"}, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 30 * 86400
    assert body["user"]["username"] == "alice" and body["user"]["mobile"] == "138****8000"
    assert body["user"]["role"] == "BORROWER" and re.fullmatch(r"WX[0-9A-F]{14}", body["user"]["user_no"])
    me = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200 and me.json()["username"] == "alice"


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"mobile": "1380013800", "purpose": "register"}, 400, "invalid_mobile"),
    ({"mobile": MOBILE, "purpose": "transfer"}, 400, "invalid_purpose"),
])
def test_api_sms_code_refusals_are_json_errors(client, outbox, payload, status, code):
    answer = client.post("/api/v1/accounts/sms-code", payload, content_type="application/json")
    assert answer.status_code == status
    assert answer.json()["code"] == code and answer.json()["message"]
    assert outbox == []


def test_api_sms_code_answers_alike_for_registered_and_unknown_numbers(client, outbox):
    """The answer never tells who is registered; the text on the phone says what applies."""
    make_customer(username="first", mobile="13900139000")

    def ask(mobile, purpose):
        return client.post("/api/v1/accounts/sms-code", {"mobile": mobile, "purpose": purpose},
                           content_type="application/json")

    def masked(answer):
        return {**answer.json(), "mobile": "masked"}

    taken, free = ask("13900139000", "register"), ask(MOBILE, "register")
    assert (taken.status_code, free.status_code) == (200, 200) and masked(taken) == masked(free)
    known, unknown = ask("13900139000", "login"), ask("13700137000", "login")
    assert (known.status_code, unknown.status_code) == (200, 200) and masked(known) == masked(unknown)
    texts = {(m.mobile, "code is" in m.text): m.text for m in outbox}
    assert "already registered" in texts[("13900139000", False)] and "Log in instead" in texts[("13900139000", False)]
    assert "No Wanxin account uses this number" in texts[("13700137000", False)]
    assert set(texts) == {("13900139000", False), (MOBILE, True), ("13900139000", True), ("13700137000", False)}
    # The notice held the same limits as a code: asking again at once is refused alike.
    assert ask("13900139000", "register").json()["code"] == ask(MOBILE, "register").json()["code"] == "sms_too_soon"


def test_api_resend_too_soon_is_429(client, outbox):
    client.post("/api/v1/accounts/sms-code", {"mobile": MOBILE, "purpose": "register"}, content_type="application/json")
    again = client.post("/api/v1/accounts/sms-code", {"mobile": MOBILE, "purpose": "register"},
                        content_type="application/json")
    assert again.status_code == 429 and again.json()["code"] == "sms_too_soon"
    assert len(outbox) == 1


def test_api_register_refusals_are_json_errors(client, outbox):
    make_customer(username="alice", mobile="13900139000")
    taken = client.post("/api/v1/accounts/register",
                        {"username": "alice", "password": PASSWORD, "mobile": MOBILE, "code": "123456",
                         "role": "INVESTOR"}, content_type="application/json")
    assert taken.status_code == 409
    assert taken.json() == {"code": "username_taken", "message": "This username is taken; please choose another."}
    weak = client.post("/api/v1/accounts/register",
                       {"username": "bob", "password": "abc", "mobile": MOBILE, "code": "123456",
                        "role": "INVESTOR"}, content_type="application/json")
    assert weak.status_code == 400 and weak.json()["code"] == "weak_password"
    assert users() == [("alice", "13900139000", "INVESTOR")]
