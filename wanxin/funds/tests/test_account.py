"""Opening the depository account (PERSONAL_REGISTER) end to end over live HTTP:
validation, the bank's page, the notification, retry after failure, refusals."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection

from wanxin.bank.models import Account
from wanxin.core.errors import Conflict
from wanxin.depository.models import DepositoryRequest
from wanxin.fields import blind_index
from wanxin.funds import services
from wanxin.funds.models import DepositoryAccount
from wanxin.funds.services import Invalid, OpenAccountInput
from wanxin.testing import at_once

from .conftest import (
    CARD,
    OTHER_CARD,
    at_bank,
    client_for,
    deliver,
    finish,
    make_customer,
    make_id_number,
    open_account,
    replay_notifications,
    state,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

TODAY = dt.date(2025, 6, 15)


def wrong_check_id() -> str:
    good = make_id_number()
    return good[:17] + ("0" if good[17] != "0" else "1")


def data(**overrides) -> OpenAccountInput:
    fields = {"full_name": "Li Lei", "id_number": make_id_number(), "bank_code": "ICBC", "card_number": CARD}
    return OpenAccountInput(**{**fields, **overrides})


def test_open_account_through_the_bank(live, customer):
    id_number = make_id_number(dt.date(1988, 2, 29))
    record = services.account_open(user=customer, data=data(id_number=id_number, full_name="  Li   Lei "))
    account = DepositoryAccount.objects.get(user=customer)
    assert (account.status, account.request_no, account.attempts) == ("PENDING", record.request_no, 1)
    assert record.service_name == "PERSONAL_REGISTER" and record.status == "PENDING"
    assert record.user_no == customer.user_no
    assert record.payload == {
        "userNo": customer.user_no, "fullName": "Li Lei", "idNumber": id_number, "mobile": customer.mobile,
        "role": "BOTH", "bankCode": "ICBC", "cardNumber": CARD,
        "authList": ["TENDER", "REPAYMENT", "ALLOCATION", "ALLOCATION_FEE", "ALLOCATION_SETTLE"],
        "callbackUrl": f"{live}/funds/back",
    }

    # The customer confirms at the bank, granting only two of the authorisations.
    bank_req = at_bank(record, auth=["TENDER", "ALLOCATION"])
    assert bank_req.status == "SUCCESS"
    account.refresh_from_db()
    assert account.status == "PENDING"  # nothing changes before the notification
    assert deliver() == 1
    account.refresh_from_db()
    assert account.status == "OPEN" and account.auth_list == ["ALLOCATION", "TENDER"]
    assert account.opened_at is not None and account.fail_reason == ""
    assert (account.available, account.frozen) == (0, 0)
    bank = Account.objects.using("bank").get(account_no=customer.user_no)
    assert bank.id_number == id_number and bank.full_name == "Li Lei"

    # A replayed notification changes nothing.
    before = state(customer)
    assert replay_notifications(record.request_no) == 1
    assert state(customer) == before


def test_personal_data_is_encrypted_at_rest(live, customer):
    id_number = make_id_number()
    services.account_open(user=customer, data=data(id_number=id_number))
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name, id_number, card_number, id_number_index FROM funds_depositoryaccount "
                       "WHERE user_id = %s", [customer.pk])
        full_name, stored_id, stored_card, index = cursor.fetchone()
    for plain, stored in (("Li Lei", full_name), (id_number, stored_id), (CARD, stored_card)):
        assert stored.startswith("v1:") and plain not in stored
    assert index == blind_index(id_number) and id_number not in index
    account = DepositoryAccount.objects.get(user=customer)
    assert (account.full_name, account.id_number, account.card_number) == ("Li Lei", id_number, CARD)
    assert account.masked_id_number == id_number[:3] + "*" * 11 + id_number[-4:]
    assert account.masked_card_number == "6222 **** **** 3446"


def test_failure_at_the_bank_then_retry_works(live, customer):
    first = services.account_open(user=customer, data=data())
    assert finish(first, action="cancel").status == "FAIL"
    account = DepositoryAccount.objects.get(user=customer)
    assert account.status == "FAILED" and "(30004)" in account.fail_reason
    assert not Account.objects.using("bank").filter(account_no=customer.user_no).exists()

    second = services.account_open(user=customer, data=data(bank_code="CMB", card_number=OTHER_CARD))
    assert second.request_no != first.request_no
    account.refresh_from_db()
    assert (account.status, account.attempts, account.fail_reason) == ("PENDING", 2, "")
    assert finish(second).status == "SUCCESS"
    account.refresh_from_db()
    assert (account.status, account.bank_code, account.card_number) == ("OPEN", "CMB", OTHER_CARD)


def test_second_account_is_refused_and_changes_nothing(live, customer):
    open_account(customer)
    before = state(customer)
    with pytest.raises(Conflict, match="already have a depository account"):
        services.account_open(user=customer, data=data())
    assert state(customer) == before


def test_pending_opening_cannot_be_started_twice(live, customer):
    services.account_open(user=customer, data=data())
    before = state(customer)
    with pytest.raises(Conflict, match="waiting for the bank") as caught:
        services.account_open(user=customer, data=data())
    assert caught.value.code == "pending"
    assert state(customer) == before
    assert DepositoryRequest.objects.filter(service_name="PERSONAL_REGISTER").count() == 1


def test_double_click_on_the_page_goes_to_the_same_request(live, customer):
    web = client_for(customer)
    form = {"full_name": "Li Lei", "id_number": make_id_number(), "bank_code": "ICBC", "card_number": CARD,
            "role": "BOTH"}
    first = web.post("/funds/account/open", form)
    second = web.post("/funds/account/open", form)
    request_no = DepositoryAccount.objects.get(user=customer).request_no
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/funds/go/{request_no}"
    assert DepositoryRequest.objects.filter(service_name="PERSONAL_REGISTER").count() == 1


def test_an_id_number_serves_one_customer(live, customer, other_customer):
    id_number = make_id_number()
    services.account_open(user=customer, data=data(id_number=id_number))
    before = state(other_customer)
    with pytest.raises(Invalid, match="already has a depository account") as caught:
        services.account_open(user=other_customer, data=data(id_number=id_number.lower()))
    assert caught.value.code == "id_number"
    assert state(other_customer) == before
    assert not DepositoryAccount.objects.filter(user=other_customer).exists()


def test_an_id_number_is_free_again_after_a_failed_opening(live, customer, other_customer):
    id_number = make_id_number()
    finish(services.account_open(user=customer, data=data(id_number=id_number)), action="cancel")
    record = services.account_open(user=other_customer, data=data(id_number=id_number))
    assert finish(record).status == "SUCCESS"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "real name"),
        ({"full_name": "Li <script>"}, "full_name", "at most 50 letters"),
        ({"full_name": "L" * 51}, "full_name", "at most 50 letters"),
        ({"id_number": "11010119900101123"}, "id_number", "18 characters"),
        ({"id_number": "110101199002301234"}, "id_number", "does not exist"),  # 30 February
        ({"id_number": "110101209901011234"}, "id_number", "not possible"),  # born in 2099
        ({"id_number": "WRONG_CHECK"}, "id_number", "check character"),
        ({"id_number": "MINOR"}, "id_number", "at least 18"),
        ({"card_number": "6222020200112233445"}, "card_number", "not valid"),  # Luhn
        ({"card_number": "1234"}, "card_number", "12 to 19 digits"),
        ({"card_number": "6222-0202-0011-2233-445"}, "card_number", "12 to 19 digits"),
        ({"bank_code": "XYZ"}, "bank_code", "from the list"),
        ({"role": "TRADER"}, "role", "invest, borrow or both"),
    ],
)
def test_invalid_details_are_refused_and_change_nothing(live, customer, overrides, field, message):
    if overrides.get("id_number") == "WRONG_CHECK":
        overrides = {"id_number": wrong_check_id()}
    if overrides.get("id_number") == "MINOR":
        overrides = {"id_number": make_id_number(dt.date(2008, 1, 1))}
    before = state(customer)
    with pytest.raises(Invalid, match=message) as caught:
        services.account_open(user=customer, data=data(**overrides), today=TODAY)
    assert caught.value.code == field
    assert state(customer) == before
    assert not DepositoryRequest.objects.exists()


def test_adult_on_the_eighteenth_birthday(live, customer):
    record = services.account_open(user=customer, data=data(id_number=make_id_number(dt.date(2007, 6, 15))),
                                   today=TODAY)
    assert record.status == "PENDING"


def test_a_customer_without_a_mobile_number_is_told_so(live):
    user = make_customer()
    user.mobile = None
    user.save()
    with pytest.raises(Invalid, match="mobile number"):
        services.account_open(user=user, data=data())
    assert not DepositoryAccount.objects.exists()


def test_user_no_is_assigned_once_when_registration_left_none(live):
    user = make_customer()
    user.user_no = None
    user.save()
    record = services.account_open(user=user, data=data())
    user.refresh_from_db()
    assert user.user_no and user.user_no.startswith("WX") and record.user_no == user.user_no
    assert finish(record).status == "SUCCESS"


def test_operators_have_no_depository_account(live):
    operator = make_customer()
    operator.is_operator = True
    operator.save()
    with pytest.raises(Exception, match="Only customers"):
        services.account_open(user=operator, data=data())
    assert client_for(operator).get("/funds/").status_code == 403


def test_api_opening_and_masked_account(live, customer):
    api = client_for(customer)
    assert api.get("/api/v1/funds/account").status_code == 404
    id_number = make_id_number()
    response = api.post("/api/v1/funds/account", json.dumps({
        "full_name": "Li Lei", "id_number": id_number, "bank_code": "ICBC", "card_number": CARD,
    }), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["gateway_url"] == f"http://testserver/funds/go/{body['request_no']}"
    assert body["service"] == "PERSONAL_REGISTER" and body["status"] == "PENDING"
    finish(DepositoryRequest.objects.get(request_no=body["request_no"]))

    shown = api.get("/api/v1/funds/account")
    account = shown.json()
    assert account["status"] == "OPEN"
    assert account["id_number"] == id_number[:3] + "*" * 11 + id_number[-4:]
    assert account["card_number"] == "6222 **** **** 3446" and account["full_name"] == "L*****"
    assert id_number not in shown.content.decode() and CARD not in shown.content.decode()

    again = api.post("/api/v1/funds/account", json.dumps({
        "full_name": "Li Lei", "id_number": make_id_number(), "bank_code": "ICBC", "card_number": CARD,
    }), content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_open"

    bad = client_for(make_customer()).post("/api/v1/funds/account", json.dumps({
        "full_name": "Han Meimei", "id_number": wrong_check_id(), "bank_code": "ICBC", "card_number": CARD,
    }), content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "id_number"


def test_pages_never_show_full_numbers(live, customer):
    id_number = make_id_number()
    open_account(customer, id_number=id_number)
    web = client_for(customer)
    for url in ("/funds/", "/funds/recharge", "/funds/withdraw", "/funds/records", "/funds/statistics"):
        page = web.get(url).content.decode()
        assert id_number not in page and CARD not in page, url
    overview = web.get("/funds/").content.decode()
    assert "6222 **** **** 3446" in overview and id_number[-4:] in overview


def test_open_account_page_form_errors(live, customer):
    web = client_for(customer)
    assert web.get("/funds/account/open").status_code == 200
    response = web.post("/funds/account/open", {"full_name": "Li Lei", "id_number": wrong_check_id(),
                                                  "bank_code": "ICBC", "card_number": CARD, "role": "BOTH"})
    assert response.status_code == 200
    assert "check character is wrong" in response.content.decode()
    assert not DepositoryRequest.objects.exists()
    assert not web.get("/funds/").content.decode().count("Waiting for the bank")


def test_anonymous_visitors_are_sent_to_log_in(live):
    from django.test import Client

    response = Client().get("/funds/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login?next=/funds/")
    assert Client().get("/api/v1/funds/account").status_code == 401


def test_concurrent_openings_make_one_request(live, customer):
    """Several submissions at the same moment (threads, real PostgreSQL): one request."""
    def submit() -> str:
        services.account_open(user=customer, data=data())
        return "started"

    outcomes = [o.code if isinstance(o, Conflict) else o for o in at_once(submit, 4)]
    assert sorted(outcomes) == ["pending", "pending", "pending", "started"]
    assert DepositoryRequest.objects.filter(service_name="PERSONAL_REGISTER").count() == 1
    account = DepositoryAccount.objects.get(user=customer)
    assert (account.status, account.attempts) == ("PENDING", 1)
