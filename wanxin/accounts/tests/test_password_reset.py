"""Password reset by SMS code."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client

from wanxin.accounts import services, sms_codes
from wanxin.accounts.auth import token_issue
from wanxin.accounts.models import ApiToken, User

from .conftest import MOBILE, PASSWORD, last_code

pytestmark = pytest.mark.django_db
NEW = "Quiet-Lantern-77"


def reset_code(mobile=MOBILE):
    services.sms_code_request(mobile=mobile, purpose="reset_password", ip="10.0.0.1")
    return last_code(mobile)


def password_of(user) -> str:
    return User.objects.get(pk=user.pk).password


def test_reset_sets_the_new_password_and_ends_every_token(customer, outbox):
    tokens = [token_issue(user=customer), token_issue(user=customer)]
    services.customer_password_reset(mobile=MOBILE, code=reset_code(), new_password=NEW)
    user = User.objects.get(pk=customer.pk)
    assert user.check_password(NEW) and not user.check_password(PASSWORD)
    assert ApiToken.objects.filter(user=customer).count() == 0
    for token in tokens:
        assert Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_reset_ends_the_browser_sessions(customer, outbox):
    browser = Client()
    browser.post("/accounts/login", {"username": "alice", "password": PASSWORD})
    assert browser.get("/accounts/").status_code == 200
    services.customer_password_reset(mobile=MOBILE, code=reset_code(), new_password=NEW)
    assert browser.get("/accounts/").status_code == 302


@pytest.mark.parametrize("weak", ["abc", "password", "12345678901", "alice1234"])
def test_weak_new_password_is_refused_changing_nothing_and_the_code_stays_usable(customer, outbox, weak):
    before = password_of(customer)
    code = reset_code()
    with pytest.raises(services.FieldError) as info:
        services.customer_password_reset(mobile=MOBILE, code=code, new_password=weak)
    assert (info.value.code, info.value.field) == ("weak_password", "new_password")
    assert password_of(customer) == before
    services.customer_password_reset(mobile=MOBILE, code=code, new_password=NEW)
    assert User.objects.get(pk=customer.pk).check_password(NEW)


def test_wrong_expired_and_reused_codes_change_nothing(customer, outbox):
    before = password_of(customer)
    code = reset_code()
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(services.FieldError) as info:
        services.customer_password_reset(mobile=MOBILE, code=wrong, new_password=NEW)
    assert info.value.code == "code_wrong" and password_of(customer) == before
    with pytest.raises(services.FieldError) as info:
        services.customer_password_reset(mobile=MOBILE, code=last_code(MOBILE) and "123456"[:5], new_password=NEW)
    assert info.value.code == "code_malformed"
    services.customer_password_reset(mobile=MOBILE, code=code, new_password=NEW)
    after = password_of(customer)
    with pytest.raises(services.FieldError) as info:
        services.customer_password_reset(mobile=MOBILE, code=code, new_password="Another-Good-One-9")
    assert info.value.code == "code_used" and password_of(customer) == after


def test_a_login_code_cannot_reset_the_password(customer, outbox):
    services.sms_code_request(mobile=MOBILE, purpose="login", ip="10.0.0.1")
    with pytest.raises(services.FieldError) as info:
        services.customer_password_reset(mobile=MOBILE, code=last_code(MOBILE), new_password=NEW)
    assert info.value.code == "code_expired"


def test_operators_cannot_reset_on_the_customer_site(operator, outbox):
    before = password_of(operator)
    # Asking sends no code to an operator's number, only a message saying why.
    services.sms_code_request(mobile=operator.mobile, purpose="reset_password", ip=None)
    [notice] = outbox
    assert "No password reset code was sent" in notice.text and "/backoffice/login" in notice.text
    with pytest.raises(services.WanxinError) as info:
        services.customer_password_reset(mobile=operator.mobile, code="123456", new_password=NEW)
    assert info.value.code == "code_expired"
    # A code it holds anyway (made before the account became an operator's) is refused too.
    cache.delete(sms_codes.resend_key("reset_password", operator.mobile))
    sms_codes.code_send(purpose="reset_password", mobile=operator.mobile, ip=None)
    with pytest.raises(services.WanxinError) as info:
        services.customer_password_reset(mobile=operator.mobile, code=last_code(operator.mobile), new_password=NEW)
    assert (info.value.code, info.value.status) == ("operator_account", 403)
    assert password_of(operator) == before


def test_reset_lifts_a_login_lockout(client, customer, settings, outbox):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login", {"username": "alice", "password": "wrong-password"})
    assert client.post("/accounts/login", {"username": "alice", "password": PASSWORD}).status_code == 429
    services.customer_password_reset(mobile=MOBILE, code=reset_code(), new_password=NEW)
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert client.post("/accounts/login", {"username": "alice", "password": NEW}).status_code == 302


def test_reset_page(client, customer, outbox):
    sent = client.post("/accounts/password-reset", {"mobile": MOBILE, "action": "send_code"})
    assert "Message sent to 138****8000" in sent.content.decode()
    mismatch = client.post("/accounts/password-reset", {"mobile": MOBILE, "code": last_code(MOBILE),
                                                        "new_password": NEW, "new_password_confirm": "x"})
    assert "The two passwords differ." in mismatch.content.decode()
    done = client.post("/accounts/password-reset", {"mobile": MOBILE, "code": last_code(MOBILE),
                                                    "new_password": NEW, "new_password_confirm": NEW}, follow=True)
    assert done.redirect_chain == [("/accounts/login", 302)]
    assert "Your password has been changed" in done.content.decode()
    assert User.objects.get(pk=customer.pk).check_password(NEW)


def test_reset_api(client, customer, outbox):
    token = token_issue(user=customer)
    client.post("/api/v1/accounts/sms-code", {"mobile": MOBILE, "purpose": "reset_password"},
                content_type="application/json")
    weak = client.post("/api/v1/accounts/password-reset",
                       {"mobile": MOBILE, "code": last_code(MOBILE), "new_password": "123"},
                       content_type="application/json")
    assert weak.status_code == 400 and weak.json()["code"] == "weak_password"
    done = client.post("/api/v1/accounts/password-reset",
                       {"mobile": MOBILE, "code": last_code(MOBILE), "new_password": NEW},
                       content_type="application/json")
    assert done.status_code == 200 and done.json() == {"password_reset": True}
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    login = client.post("/api/v1/accounts/login", {"username": MOBILE, "password": NEW},
                        content_type="application/json")
    assert login.status_code == 200
