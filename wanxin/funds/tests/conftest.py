"""Fixtures for the funds app: customers, the live platform and bank, and the customer's
actions at the bank's pages (driven through the bank's own gateway code, as a browser would)."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from wanxin.bank import gateway, outbox
from wanxin.bank.models import BankRequest, Notification
from wanxin.bank.tests.helpers import TRADE_PASSWORD
from wanxin.core.identity import resident_id_check_char
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.testing import at_once
from wanxin.testing.bank import bank_balance, bank_income  # noqa: F401  (shared; tests import them from here)

User = get_user_model()
_numbers = itertools.count(1)
CARD = "6222020200112233446"  # Luhn-valid
OTHER_CARD = "4111111111111111"


def make_id_number(birth: dt.date = dt.date(1990, 1, 1), area: str = "110101", seq: int | None = None) -> str:
    seq = seq if seq is not None else secrets.randbelow(999)
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def make_customer(username: str | None = None, *, role: str = "BOTH", user_no: str | None = None):
    n = next(_numbers)
    username = username or f"cust{n}_{secrets.token_hex(3)}"
    return User.objects.create_user(
        username=username, password="correct-horse-battery-9",
        mobile=f"139{secrets.randbelow(10**8):08d}", role=role,
        user_no=user_no or f"FT{secrets.token_hex(6).upper()}",
    )


@pytest.fixture
def customer():
    return make_customer()


@pytest.fixture
def other_customer():
    return make_customer()


@pytest.fixture
def live(live_urls, settings) -> str:
    """Platform and bank on the live server; callbacks come back to it too."""
    settings.PLATFORM_BASE_URL = live_urls
    return live_urls


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def web(customer) -> Client:
    return client_for(customer)


# -- at the bank ---------------------------------------------------------------------------------


def at_bank(record: DepositoryRequest, *, action: str = "confirm", password: str = TRADE_PASSWORD,
            auth: list[str] | None = None) -> BankRequest:
    """The customer's browser carries the platform's signed envelope to the bank and the
    customer confirms (or cancels) there. Nothing reaches the platform yet."""
    record.refresh_from_db()
    page = gateway.open_request(depository.gateway_envelope(record=record))
    if not page.finished:
        form = {"action": action, "password": password, "password_again": password}
        if record.service_name == "PERSONAL_REGISTER":
            form["auth"] = record.payload["authList"] if auth is None else auth
        page = gateway.confirm(page.req.pk, form)
    page.req.refresh_from_db()
    return page.req


def deliver() -> int:
    """The bank's outbox posts its notifications to the platform over HTTP."""
    return outbox.deliver_due()


def finish(record: DepositoryRequest, **kwargs) -> DepositoryRequest:
    """At the bank, then the notification: the platform's record is final afterwards."""
    at_bank(record, **kwargs)
    assert deliver() >= 1
    record.refresh_from_db()
    assert record.is_final, record
    return record


def replay_notifications(request_no: str, *, copies: int = 1) -> int:
    """The bank delivers a notification it already delivered, ``copies`` more times, at
    once when ``copies`` > 1 (duplicates happen, and may race). Returns how many the
    platform answered ``OK``."""
    note = Notification.objects.using("bank").get(request_no=request_no)
    assert note.status == Notification.Status.DELIVERED
    for _ in range(copies):
        Notification.objects.using("bank").create(platform_no=note.platform_no, request_no=note.request_no,
                                                  body=note.body, next_attempt_at=timezone.now())
    if copies == 1:
        return outbox.deliver_due()
    return sum(at_once(lambda: outbox.deliver_due(limit=1), copies))


def open_account(user, *, id_number: str | None = None) -> DepositoryAccount:
    """A customer with an open depository account (through the real gateway flow)."""
    from wanxin.funds import services

    record = services.account_open(user=user, data=services.OpenAccountInput(
        full_name="Li Lei", id_number=id_number or make_id_number(), bank_code="ICBC", card_number=CARD))
    assert finish(record).status == "SUCCESS", record.resp_msg
    account = DepositoryAccount.objects.get(user=user)
    assert account.status == "OPEN"
    return account


def recharged(user, amount: int) -> DepositoryRequest:
    from wanxin.funds import services

    record = finish(services.recharge_start(user=user, amount=amount))
    assert record.status == "SUCCESS", record.resp_msg
    return record


def records_of(user) -> list[tuple[str, int, int, str]]:
    """(type, amount, available_after, request_no), oldest first."""
    return list(FundRecord.objects.filter(user=user).order_by("created_at", "id")
                .values_list("type", "amount", "available_after", "request_no"))


def state(user) -> dict:
    """Everything the platform keeps about a customer's money, to compare before/after refusals."""
    account = DepositoryAccount.objects.filter(user=user).values().first()
    if account:
        account.pop("updated_at")
    return {
        "account": account,
        "records": records_of(user),
        "requests": list(DepositoryRequest.objects.filter(user_no=user.user_no)
                         .exclude(service_name="QUERY_BALANCE").values_list("request_no", "status")),
    }
