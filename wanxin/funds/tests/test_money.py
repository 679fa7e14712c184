"""Recharge and withdraw through the bank's gateway, over live HTTP: exact balances and
fund records after each step, refusals that change nothing, replayed notifications."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction

from wanxin.bank import invariants
from wanxin.core.errors import Conflict
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.funds import domain, services
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.funds.services import Invalid

from .conftest import (
    OTHER_CARD,
    at_bank,
    bank_balance,
    bank_income,
    client_for,
    deliver,
    finish,
    make_customer,
    make_id_number,
    open_account,
    recharged,
    records_of,
    replay_notifications,
    state,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

RULE = {"fixed": 0, "rate": "0.001", "min": 200, "max": 0}


@pytest.fixture(autouse=True)
def commission(settings):
    settings.FUNDS_WITHDRAW_COMMISSION = RULE
    settings.FUNDS_MAX_AMOUNT_FEN = 10_000_000_00


def mirror(user) -> tuple[int, int]:
    return tuple(DepositoryAccount.objects.values_list("available", "frozen").get(user=user))


def test_recharge_then_withdraw_with_commission(live, customer):
    account = open_account(customer)
    income_before = bank_income()

    recharge = services.recharge_start(user=customer, amount=100_000)
    assert recharge.payload == {"userNo": account.user_no, "amount": 100_000, "callbackUrl": f"{live}/funds/back"}
    assert records_of(customer) == []  # nothing before the bank's result
    assert finish(recharge).status == "SUCCESS"
    assert bank_balance(account.user_no) == (100_000, 0)
    assert mirror(customer) == (100_000, 0)
    assert records_of(customer) == [("RECHARGE", 100_000, 100_000, recharge.request_no)]

    withdraw = services.withdraw_start(user=customer, amount=30_000)
    assert withdraw.payload["commission"] == 200 and withdraw.amount == 30_000
    assert finish(withdraw).status == "SUCCESS"
    assert bank_balance(account.user_no) == (70_000, 0)
    assert bank_income() - income_before == 200
    assert mirror(customer) == (70_000, 0)
    assert records_of(customer) == [
        ("RECHARGE", 100_000, 100_000, recharge.request_no),
        ("WITHDRAW", -29_800, 70_200, withdraw.request_no),
        ("COMMISSION", -200, 70_000, withdraw.request_no),
    ]
    balance = services.balance_get(account=account)
    assert (balance.available, balance.frozen, balance.source) == (70_000, 0, "bank")

    # Every notification delivered again: nothing is added.
    before = state(customer)
    for request_no in (recharge.request_no, withdraw.request_no):
        assert replay_notifications(request_no) == 1
    assert state(customer) == before
    assert invariants.total_balance() == 0


def test_concurrent_duplicate_notifications_add_one_record(live, customer):
    open_account(customer)
    record = finish(services.recharge_start(user=customer, amount=12_345))
    withdraw = finish(services.withdraw_start(user=customer, amount=5_000))
    before = state(customer)
    assert replay_notifications(record.request_no, copies=6) == 6
    assert replay_notifications(withdraw.request_no, copies=6) == 6
    assert state(customer) == before
    assert records_of(customer) == [
        ("RECHARGE", 12_345, 12_345, record.request_no),
        ("WITHDRAW", -4_800, 7_545, withdraw.request_no),
        ("COMMISSION", -200, 7_345, withdraw.request_no),
    ]
    assert mirror(customer) == (7_345, 0) == bank_balance(customer.user_no)


def test_failed_recharge_records_nothing(live, customer):
    open_account(customer)
    record = finish(services.recharge_start(user=customer, amount=50_000), action="cancel")
    assert (record.status, record.resp_code) == ("FAIL", "30004")
    assert records_of(customer) == [] and mirror(customer) == (0, 0)


def test_withdrawal_beyond_the_balance_is_refused_before_the_bank(live, customer):
    open_account(customer)
    recharged(customer, 10_000)
    before = state(customer)
    with pytest.raises(Invalid, match=r"available balance is ¥100\.00"):
        services.withdraw_start(user=customer, amount=10_001)
    assert state(customer) == before


def test_withdrawal_the_bank_refuses_records_nothing(live, customer):
    """Two withdrawals started on the same balance: the bank refuses the second (30042)."""
    account = open_account(customer)
    recharged(customer, 10_000)
    first = services.withdraw_start(user=customer, amount=8_000)
    second = services.withdraw_start(user=customer, amount=8_000)
    assert finish(first).status == "SUCCESS"
    failed = finish(second)
    assert (failed.status, failed.resp_code) == ("FAIL", "30042")
    assert bank_balance(account.user_no) == (2_000, 0) and mirror(customer) == (2_000, 0)
    assert [r[0] for r in records_of(customer)] == ["RECHARGE", "WITHDRAW", "COMMISSION"]


def test_withdrawal_that_the_commission_would_eat_is_refused(live, customer):
    open_account(customer)
    recharged(customer, 10_000)
    before = state(customer)
    with pytest.raises(Invalid, match=r"more than the commission of ¥2\.00"):
        services.withdraw_start(user=customer, amount=200)
    assert state(customer) == before


@pytest.mark.parametrize("amount", [0, -1, 1.5, "100", True, None, 10_000_000_01, 10**20])
def test_bad_amounts_are_refused(live, customer, amount):
    open_account(customer)
    before = state(customer)
    for start in (services.recharge_start, services.withdraw_start):
        with pytest.raises(Invalid) as caught:
            start(user=customer, amount=amount)
        assert caught.value.code == "amount"
    assert state(customer) == before


def test_money_needs_an_open_account(live, customer):
    with pytest.raises(Conflict, match="Open your depository account first"):
        services.recharge_start(user=customer, amount=100)
    services.account_open(user=customer, data=services.OpenAccountInput(
        full_name="Li Lei", id_number=make_id_number(), bank_code="ICBC", card_number=OTHER_CARD))
    with pytest.raises(Conflict, match="Open your depository account first"):
        services.withdraw_start(user=customer, amount=1_000)
    assert not DepositoryRequest.objects.filter(service_name__in=["RECHARGE", "WITHDRAW"]).exists()
    assert client_for(customer).get("/funds/recharge")["Location"] == "/funds/account/open"


def test_balance_is_cached_briefly_and_refreshed_by_results(live, customer):
    account = open_account(customer)
    queries = lambda: DepositoryRequest.objects.filter(service_name="QUERY_BALANCE").count()  # noqa: E731
    first = services.balance_get(account=account)
    assert (first.available, first.source) == (0, "bank") and queries() == 1
    services.balance_get(account=account)
    assert queries() == 1  # from the cache
    recharged(customer, 5_000)  # the result handler drops the cached balance
    assert services.balance_get(account=account).available == 5_000 and queries() == 2
    cache.delete(services.balance_cache_key(account.user_no))
    assert services.balance_get(account=account).available == 5_000 and queries() == 3


def test_balance_falls_back_to_the_mirror_when_the_bank_is_down(live, customer, settings):
    account = open_account(customer)
    recharged(customer, 7_000)
    cache.delete(services.balance_cache_key(account.user_no))
    settings.BANK_URL = "http://127.0.0.1:9/bank"  # nothing listens there
    settings.BANK_HTTP_TIMEOUT = 0.5
    balance = services.balance_get(account=account)
    assert (balance.available, balance.frozen, balance.source) == (7_000, 0, "platform")


def test_balance_inside_a_transaction_uses_the_mirror(live, customer):
    account = open_account(customer)
    recharged(customer, 4_000)
    cache.delete(services.balance_cache_key(account.user_no))
    with transaction.atomic():
        balance = services.balance_get(account=account)
    assert (balance.available, balance.source) == (4_000, "platform")


def test_fund_events_apply_is_one_update_and_idempotent(live, customer):
    open_account(customer)

    with transaction.atomic():
        created = services.fund_events_apply(user_no=customer.user_no, request_no="X-1",
                                             events=domain.recharge_events(1_000) + domain.freeze_events(400))
    assert [(r.type, r.amount, r.available_after, r.frozen_after) for r in created] == [
        ("RECHARGE", 1_000, 1_000, 0), ("FREEZE", -400, 600, 400)]
    with transaction.atomic():
        again = services.fund_events_apply(user_no=customer.user_no, request_no="X-1",
                                           events=domain.recharge_events(1_000) + domain.freeze_events(400))
    assert again == [] and mirror(customer) == (600, 400) and FundRecord.objects.count() == 2
    assert services.fund_events_apply(user_no="NOBODY", request_no="X-2", events=domain.recharge_events(1)) == []


def test_recovery_job_applies_results_without_notifications(live, customer):
    """The platform does not depend on notifications: QUERY_REQUEST settles them too."""
    import datetime as dt

    open_account(customer)
    record = services.recharge_start(user=customer, amount=3_000)
    at_bank(record)  # the notification is never delivered
    counts = depository.pending_recover(older_than=dt.timedelta(0))
    assert counts.get("applied") == 1
    record.refresh_from_db()
    assert record.applied_from == "query"
    assert records_of(customer) == [("RECHARGE", 3_000, 3_000, record.request_no)]
    assert deliver() == 1  # the late notification adds nothing
    assert len(records_of(customer)) == 1


# -- pages and API -------------------------------------------------------------------------------


def test_recharge_page_and_double_click(live, customer):
    open_account(customer)
    web = client_for(customer)
    page = web.get("/funds/recharge").content.decode()
    token = page.split('name="token" value="')[1].split('"')[0]
    first = web.post("/funds/recharge", {"amount": "1,000.50", "token": token})
    second = web.post("/funds/recharge", {"amount": "1,000.50", "token": token})
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    record = DepositoryRequest.objects.get(service_name="RECHARGE")
    assert record.amount == 100_050 and first["Location"] == f"/funds/go/{record.request_no}"


@pytest.mark.parametrize(("typed", "message"), [
    ("-5", "must be positive"), ("0", "more than zero"), ("1.001", "at most 2 decimal places"),
    ("99999999", "too large"), ("ten", "Enter the amount in yuan"), ("", "This field is required"),
])
def test_recharge_page_refusals(live, customer, typed, message):
    open_account(customer)
    response = client_for(customer).post("/funds/recharge", {"amount": typed, "token": "t1"})
    assert response.status_code == 200 and message in response.content.decode()
    assert not DepositoryRequest.objects.filter(service_name="RECHARGE").exists()


def test_withdraw_page_shows_the_commission_before_confirming(live, customer):
    open_account(customer)
    recharged(customer, 100_000)
    web = client_for(customer)
    preview = web.post("/funds/withdraw", {"amount": "300", "token": "w1", "action": "preview"})
    text = preview.content.decode()
    assert preview.status_code == 200
    assert 'id="quote-commission">¥2.00' in text and 'id="quote-net">¥298.00' in text
    assert not DepositoryRequest.objects.filter(service_name="WITHDRAW").exists()
    confirm = web.post("/funds/withdraw", {"amount": "300.00", "token": "w1", "action": "confirm"})
    record = DepositoryRequest.objects.get(service_name="WITHDRAW")
    assert confirm["Location"] == f"/funds/go/{record.request_no}"
    assert (record.amount, record.payload["commission"]) == (30_000, 200)

    quote = web.get("/funds/withdraw/quote", {"amount": "5000"}).content.decode()
    assert 'id="quote-commission">¥5.00' in quote
    assert "at most 2 decimal places" in web.get("/funds/withdraw/quote", {"amount": "1.234"}).content.decode()


def test_api_recharge_withdraw_balance_and_quote(live, customer):
    open_account(customer)
    api = client_for(customer)

    def post(path, body, **headers):
        return api.post(path, json.dumps(body), content_type="application/json", headers=headers)

    response = post("/api/v1/funds/recharge", {"amount_yuan": "500.25"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 201 and response.json()["amount"] == 50_025
    assert post("/api/v1/funds/recharge", {"amount_yuan": "500.25"},
                **{"Idempotency-Key": "k1"}).json()["request_no"] == response.json()["request_no"]
    finish(DepositoryRequest.objects.get(request_no=response.json()["request_no"]))
    assert api.get("/api/v1/funds/balance").json()["available"] == 50_025

    for bad in ({"amount": 1.5}, {"amount": "100"}, {"amount": 0}, {"amount": -100}, {"amount": True}, {},
                {"amount": 100, "amount_yuan": "1"}, {"amount_yuan": "0.001"}, {"amount": 10**16}):
        refused = post("/api/v1/funds/recharge", bad)
        assert refused.status_code == 400 and refused.json()["code"] == "amount", (bad, refused.content)
    assert DepositoryRequest.objects.filter(service_name="RECHARGE").count() == 1

    assert api.get("/api/v1/funds/withdraw/quote", {"amount": 30_000}).json() == {
        "amount": 30_000, "commission": 200, "net": 29_800}
    assert api.get("/api/v1/funds/withdraw/quote", {"amount_yuan": "2000"}).json()["commission"] == 200
    assert api.get("/api/v1/funds/withdraw/quote", {"amount_yuan": "3000.5"}).json()["commission"] == 300
    withdraw = post("/api/v1/funds/withdraw", {"amount": 30_000})
    assert withdraw.status_code == 201 and withdraw.json()["commission"] == 200
    status = api.get(f"/api/v1/funds/requests/{withdraw.json()['request_no']}")
    assert status.json()["status"] == "PENDING"
    assert post("/api/v1/funds/withdraw", {"amount": 50_026}).json()["message"] == "Your available balance is ¥500.25."


def test_commission_setting_is_read_at_call_time(live, customer, settings):
    settings.FUNDS_WITHDRAW_COMMISSION = {"fixed": 150, "rate": "0", "min": 0, "max": 0}
    assert services.withdraw_quote(amount=10_000).commission == 150
    settings.FUNDS_WITHDRAW_COMMISSION = {"fixed": 0, "rate": "0.005", "min": 100, "max": 1_000}
    assert services.commission_rule().rate == Decimal("0.005")
    assert services.withdraw_quote(amount=30_100).commission == 151  # 150.5 → 151
    assert services.withdraw_quote(amount=1_000_000).commission == 1_000


def test_another_customers_requests_are_not_found(live, customer):
    open_account(customer)
    record = services.recharge_start(user=customer, amount=1_000)
    other = make_customer()
    intruder = client_for(other)
    assert intruder.get(f"/funds/go/{record.request_no}").status_code == 404
    assert intruder.get(f"/api/v1/funds/requests/{record.request_no}").status_code == 404
    back = intruder.get("/funds/back", {"requestNo": record.request_no, "respCode": "00000"})
    assert back.status_code == 200 and 'data-status="UNKNOWN"' in back.content.decode()
    record.refresh_from_db()
    assert record.gateway_signed_at is None  # the intruder's visit signed nothing


def test_go_page_carries_the_owners_request_to_the_bank(live, customer):
    open_account(customer)
    record = services.recharge_start(user=customer, amount=1_000)
    page = client_for(customer).get(f"/funds/go/{record.request_no}")
    text = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert f'action="{live}/bank/gateway"' in text and 'name="reqData"' in text
    finish(record)
    done = client_for(customer).get(f"/funds/go/{record.request_no}")
    assert done.status_code == 409 and 'data-status="SUCCESS"' in done.content.decode()
    back = client_for(customer).get("/funds/back", {"requestNo": record.request_no, "respCode": "00000"})
    assert 'data-status="SUCCESS"' in back.content.decode()
