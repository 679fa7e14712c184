"""The bank's gateway pages through Django's test client (no browser): refusals show the
bank's error page and record nothing; the trade-password form validates before anything
is opened; the card number is never shown in full."""

from __future__ import annotations

import time

import pytest

from wanxin.bank.models import Account, BankRequest, Notification
from wanxin.bank.tests.helpers import TRADE_PASSWORD, gateway_envelope, open_account
from wanxin.protocol import codes
from wanxin.testing import db_fault

pytestmark = pytest.mark.django_db(databases=["default", "bank"])

GATEWAY, CONFIRM = "/bank/gateway", "/bank/gateway/confirm"
CARD_NUMBER = "6222020200112233445"
ERROR_TEMPLATE, FORM_TEMPLATE, RESULT_TEMPLATE = (
    "bank/gateway_error.html", "bank/gateway_form.html", "bank/gateway_result.html",
)


def register_data(user_no: str, id_number: str = "110101199001011234", **extra) -> dict:
    return {"userNo": user_no, "fullName": "Han Meimei", "idNumber": id_number, "mobile": "13800138000",
            "role": "INVESTOR", "bankCode": "CMB", "cardNumber": CARD_NUMBER, "authList": ["TENDER"], **extra}


def templates(response) -> list[str]:
    return [t.name for t in response.templates]


def nothing_recorded() -> bool:
    return not BankRequest.objects.using("bank").exists() and not Notification.objects.using("bank").exists()


def assert_error_page(response, status: int, text: str) -> None:
    assert response.status_code == status
    assert ERROR_TEMPLATE in templates(response)
    body = response.content.decode()
    assert "Huaxin Depository Bank" in body and text in body
    assert "Traceback" not in body


def token_of(response) -> str:
    return response.context["page"].token


# -- refusals before anything is recorded ---------------------------------------------------


def test_empty_post_is_a_400_error_page(client):
    assert_error_page(client.post(GATEWAY, {}), 400, "cannot be read")
    assert nothing_recorded()


def test_get_is_not_allowed(client):
    assert client.get(GATEWAY).status_code == 405


def test_unknown_platform_is_a_400_error_page(client, platform_key):
    env = gateway_envelope(platform_key, "RECHARGE", {"userNo": "u1", "amount": 100})
    assert_error_page(client.post(GATEWAY, {**env, "platformNo": "NOBODY"}), 400, "NOBODY")
    assert nothing_recorded()


@pytest.mark.parametrize("breakage", ["tampered-data", "foreign-signature", "garbage-signature"])
def test_broken_signature_is_refused_with_00004(client, platform_key, breakage):
    env = gateway_envelope(platform_key, "RECHARGE", {"userNo": "u1", "amount": 100})
    other = gateway_envelope(platform_key, "RECHARGE", {"userNo": "u1", "amount": 999_999})
    broken = {
        "tampered-data": {**env, "reqData": other["reqData"]},
        "foreign-signature": {**env, "signature": other["signature"]},
        "garbage-signature": {**env, "signature": "not base64 at all!"},
    }[breakage]
    assert_error_page(client.post(GATEWAY, broken), 200, codes.BAD_SIGNATURE)
    assert nothing_recorded()


def test_stale_timestamp_is_refused_with_00005(client, platform_key):
    stale = int(time.time() * 1000) - 10 * 60 * 1000
    env = gateway_envelope(platform_key, "PERSONAL_REGISTER", register_data("u1", timestamp=stale))
    assert_error_page(client.post(GATEWAY, env), 200, codes.BAD_TIMESTAMP)
    assert nothing_recorded()


def test_direct_service_is_not_offered_at_the_gateway(client, platform_key):
    env = gateway_envelope(platform_key, "QUERY_BALANCE", {"userNo": "u1"})
    env_without_callback = gateway_envelope(platform_key, "TRANSFER", {})
    for fields in (env, env_without_callback):
        response = client.post(GATEWAY, fields)
        assert_error_page(response, 200, codes.INVALID_PARAMS)
    assert "not offered" in client.post(GATEWAY, env).content.decode()
    assert nothing_recorded()


def test_invalid_fields_are_refused_with_00003(client, platform_key):
    env = gateway_envelope(platform_key, "RECHARGE", {"userNo": "u1", "amount": 1.5})
    assert_error_page(client.post(GATEWAY, env), 200, codes.INVALID_PARAMS)
    env = gateway_envelope(platform_key, "RECHARGE", {"userNo": "u1", "amount": 100,
                                                      "callbackUrl": "javascript:alert(1)"})
    assert_error_page(client.post(GATEWAY, env), 200, codes.INVALID_PARAMS)
    assert nothing_recorded()


@pytest.mark.parametrize("token", ["", "garbage", "1:forged:signature"])
def test_confirm_with_a_bad_token_is_a_400_error_page(client, token):
    response = client.post(CONFIRM, {"token": token, "password": TRADE_PASSWORD})
    assert_error_page(response, 400, "Start again")


def test_confirm_token_from_another_salt_is_refused(client):
    from django.core import signing

    response = client.post(CONFIRM, {"token": signing.dumps(1), "password": TRADE_PASSWORD})
    assert_error_page(response, 400, "expired")


# -- PERSONAL_REGISTER at the bank's page ---------------------------------------------------


def landing(client, platform_key, data: dict, service: str = "PERSONAL_REGISTER"):
    response = client.post(GATEWAY, gateway_envelope(platform_key, service, data))
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("135790", "135791", "differ"),
        ("111111", "111111", "too easy"),
        ("123456", "123456", "too easy"),
        ("654321", "654321", "too easy"),
        ("12345", "12345", "exactly 6 digits"),
        ("abc123", "abc123", "exactly 6 digits"),
        ("", "", "exactly 6 digits"),
    ],
)
def test_bad_new_password_re_renders_the_form_and_opens_nothing(client, platform_key, password, again, message):
    first = landing(client, platform_key, register_data("u1"))
    assert FORM_TEMPLATE in templates(first)
    response = client.post(CONFIRM, {"token": token_of(first), "password": password, "password_again": again,
                                     "auth": ["TENDER"]})
    assert response.status_code == 200
    assert FORM_TEMPLATE in templates(response)
    assert message in response.context["page"].error
    assert 'role="alert"' in response.content.decode()
    assert not Account.objects.using("bank").filter(account_no="u1").exists()
    req = BankRequest.objects.using("bank").get()
    assert req.status == BankRequest.Status.PROCESSING
    assert not Notification.objects.using("bank").exists()

    # The customer fixes it on the same page and the account opens.
    done = client.post(CONFIRM, {"token": token_of(response), "password": TRADE_PASSWORD,
                                 "password_again": TRADE_PASSWORD, "auth": ["TENDER"]})
    assert RESULT_TEMPLATE in templates(done)
    req.refresh_from_db()
    assert (req.status, req.resp_code) == (BankRequest.Status.SUCCESS, codes.SUCCESS)
    account = Account.objects.using("bank").get(account_no="u1")
    assert account.auth_list == ["TENDER"]
    assert TRADE_PASSWORD not in account.trade_password


def test_declined_authorisation_stays_declined_after_a_typo(client, platform_key):
    first = landing(client, platform_key, register_data("u1", authList=["REPAYMENT", "TENDER"]))
    body = first.content.decode()
    assert body.count("checked") == 2
    response = client.post(CONFIRM, {"token": token_of(first), "password": "135790", "password_again": "135709",
                                     "auth": ["TENDER"]})
    body = response.content.decode()
    assert 'value="TENDER" checked' in body
    assert 'value="REPAYMENT">' in body


def test_second_register_for_the_same_user_is_refused_unrecorded(client, platform_key):
    assert open_account(platform_key, "u1", id_suffix="00000001").status == "SUCCESS"
    before = BankRequest.objects.using("bank").count()
    response = landing(client, platform_key, register_data("u1", id_number="110101199001019876"))
    assert ERROR_TEMPLATE in templates(response)
    assert "already has a depository account" in response.content.decode()
    assert BankRequest.objects.using("bank").count() == before  # 00003: not recorded
    assert Account.objects.using("bank").filter(account_no="u1").count() == 1


def test_second_register_with_the_same_id_number_is_refused_unrecorded(client, platform_key):
    assert open_account(platform_key, "u1", id_suffix="00000001").status == "SUCCESS"
    before = BankRequest.objects.using("bank").count()
    response = landing(client, platform_key, register_data("u2", id_number="110101199000000001"))
    assert ERROR_TEMPLATE in templates(response)
    assert "this ID number already has a depository account" in response.content.decode()
    assert BankRequest.objects.using("bank").count() == before
    assert not Account.objects.using("bank").filter(account_no="u2").exists()


def test_the_bank_page_never_shows_the_full_card_number(client, platform_key):
    first = landing(client, platform_key, register_data("u1"))
    retry = client.post(CONFIRM, {"token": token_of(first), "password": "111111", "password_again": "111111"})
    done = client.post(CONFIRM, {"token": token_of(retry), "password": TRADE_PASSWORD,
                                 "password_again": TRADE_PASSWORD})
    for response in (first, retry, done):
        body = response.content.decode()
        assert CARD_NUMBER not in body
        assert CARD_NUMBER[:-4] not in body
    assert "CMB ···· 3445" in first.content.decode()
    assert RESULT_TEMPLATE in templates(done)


def test_the_password_never_comes_back_in_the_page(client, platform_key):
    first = landing(client, platform_key, register_data("u1"))
    retry = client.post(CONFIRM, {"token": token_of(first), "password": "135790", "password_again": "975310"})
    assert "135790" not in retry.content.decode() and "975310" not in retry.content.decode()


# -- result pages -----------------------------------------------------------------------------


def test_result_page_redirects_to_the_callback_with_code(client, platform_key):
    open_account(platform_key, "u1", id_suffix="00000001")
    first = landing(client, platform_key, {"userNo": "u1", "amount": 100,
                                           "callbackUrl": "https://p.example/cb?x=1#top"}, "RECHARGE")
    done = client.post(CONFIRM, {"token": token_of(first), "action": "cancel"})
    req = done.context["req"]
    assert req.resp_code == codes.GATEWAY_ABANDONED
    callback = done.context["page"].callback
    assert callback == f"https://p.example/cb?x=1&requestNo={req.request_no}&respCode=30004#top"
    assert "30004" in done.content.decode()


def test_finished_request_cannot_be_confirmed_again(client, platform_key):
    open_account(platform_key, "u1", id_suffix="00000001")
    first = landing(client, platform_key, {"userNo": "u1", "amount": 100}, "RECHARGE")
    token = token_of(first)
    client.post(CONFIRM, {"token": token, "password": TRADE_PASSWORD})
    again = client.post(CONFIRM, {"token": token, "password": TRADE_PASSWORD})
    assert RESULT_TEMPLATE in templates(again)
    assert Account.objects.using("bank").get(account_no="u1").available == 100
    assert BankRequest.objects.using("bank").get(request_no=again.context["req"].request_no).moved_money


def test_the_same_envelope_posted_twice_shows_the_same_request(client, platform_key):
    env = gateway_envelope(platform_key, "PERSONAL_REGISTER", register_data("u1"))
    first, second = client.post(GATEWAY, env), client.post(GATEWAY, env)
    assert FORM_TEMPLATE in templates(second)
    assert first.context["req"].pk == second.context["req"].pk
    assert BankRequest.objects.using("bank").count() == 1


def test_recharge_for_an_unknown_account_fails_at_once(client, platform_key):
    response = landing(client, platform_key, {"userNo": "nobody", "amount": 100}, "RECHARGE")
    assert RESULT_TEMPLATE in templates(response)
    assert response.context["req"].resp_code == codes.ACCOUNT_NOT_FOUND


def test_register_racing_another_for_the_same_user_fails_cleanly(client, platform_key):
    """Two pages for one userNo confirmed at once: the loser gets a result page, not a 500.
    The other request's INSERT commits after this one's "already exists?" check, so this
    one's INSERT meets the unique constraint: the database reports exactly that here."""
    first = landing(client, platform_key, register_data("u1"))
    with db_fault("bank_account", "NEW.account_no = 'u1'", alias="bank", errcode="23505",
                  message="duplicate key value violates unique constraint"):
        done = client.post(CONFIRM, {"token": token_of(first), "password": TRADE_PASSWORD,
                                     "password_again": TRADE_PASSWORD})
    assert done.status_code == 200
    assert RESULT_TEMPLATE in templates(done)
    req = done.context["req"]
    assert (req.status, req.resp_code) == (BankRequest.Status.FAIL, codes.INVALID_PARAMS)
    assert Account.objects.using("bank").filter(account_no="u1").count() == 0
