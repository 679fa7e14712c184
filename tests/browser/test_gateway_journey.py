"""The browser gateway end to end (PROTOCOL §4): platform hand-off page → the bank's own
page → trade password → result page → back to the platform's callback; then the
notification settles the platform's record."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from wanxin.accounts.models import User
from wanxin.bank import invariants, outbox
from wanxin.bank.models import Account, BankRequest
from wanxin.depository import results, services
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import codes, messages

from .journeys import MARKS

pytestmark = MARKS

TRADE_PASSWORD = "135790"
CARD_NUMBER = "6222020200112233445"


def _untouched(record: DepositoryRequest) -> None:
    """These records serve no business object (docs/decisions/0004): nothing to do."""


@pytest.fixture(autouse=True)
def ownerless_routes():
    """The records ``start`` creates have no owner: route their results to a no-op."""
    with results.results_routed({(results.NO_OWNER, name): _untouched for name in messages.GATEWAY_SERVICES}):
        yield


def start(live_urls: str, service_name: str, user_no: str, **fields) -> DepositoryRequest:
    payload = {"userNo": user_no, **fields, "callbackUrl": f"{live_urls}/depository/callback"}
    return services.request_create(service_name=service_name, payload=payload, user_no=user_no,
                                   amount=fields.get("amount"))


def as_owner(page: Page, live_urls: str, user_no: str) -> None:
    """The browser is logged in as the platform customer with this userNo (created once):
    hand-off pages are served to their owner only (PROTOCOL §4a)."""
    user = User.objects.filter(user_no=user_no).first() or User.objects.create_user(
        username=f"owner-{user_no}".lower(), password="correct-horse-battery-9", user_no=user_no)
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    page.context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": live_urls}])


def to_bank(page: Page, live_urls: str, record: DepositoryRequest) -> None:
    """Open the platform's hand-off page as its owner; it auto-submits to the bank's gateway."""
    as_owner(page, live_urls, record.user_no)
    page.goto(f"{live_urls}/depository/gateway/{record.request_no}")
    page.wait_for_url(f"{live_urls}/bank/gateway")
    expect(page.locator("header")).to_contain_text("Huaxin Depository Bank")
    expect(page.locator("main")).to_contain_text(record.request_no)


def back_to_platform(page: Page, live_urls: str, record: DepositoryRequest, resp_code: str) -> None:
    """The bank's result page, then its redirect to the callbackUrl (informational only)."""
    expect(page.locator("#result")).to_be_visible()
    if resp_code == codes.SUCCESS:
        expect(page.locator("h2")).to_have_text("Done")
    else:
        expect(page.locator("#result")).to_contain_text(f"({resp_code})")
    page.wait_for_url(f"{live_urls}/depository/callback?**")
    assert f"requestNo={record.request_no}" in page.url and f"respCode={resp_code}" in page.url
    # The redirect changed nothing on the platform: the record waits for the notification.
    record.refresh_from_db()
    assert record.status == DepositoryRequest.Status.PENDING
    expect(page.locator("#status")).to_have_attribute("data-status", "PENDING")


def settle(record: DepositoryRequest) -> DepositoryRequest:
    assert outbox.deliver_due() >= 1
    record.refresh_from_db()
    assert record.applied_from == "notify"
    return record


def register(page: Page, live_urls: str, user_no: str, id_number: str) -> DepositoryRequest:
    record = start(
        live_urls, "PERSONAL_REGISTER", user_no, fullName="Li Lei", idNumber=id_number, mobile="13912345678",
        role="BOTH", bankCode="ICBC", cardNumber=CARD_NUMBER, authList=["TENDER", "REPAYMENT"],
    )
    to_bank(page, live_urls, record)
    expect(page.locator("h2")).to_have_text("Open your depository account")
    expect(page.locator("main")).to_contain_text("ICBC ···· 3445")
    assert CARD_NUMBER not in page.content()
    page.fill("#password", TRADE_PASSWORD)
    page.fill("#password_again", TRADE_PASSWORD)
    page.click("button[value=confirm]")
    back_to_platform(page, live_urls, record, codes.SUCCESS)
    record = settle(record)
    assert record.status == DepositoryRequest.Status.SUCCESS, record.resp_msg
    assert record.response["authList"] == ["REPAYMENT", "TENDER"]
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-status", "SUCCESS")
    return record


def confirm_with_password(page: Page, password: str = TRADE_PASSWORD) -> None:
    page.fill("#password", password)
    page.click("button[value=confirm]")


def test_open_recharge_withdraw_journey(page, live_urls, artifacts):
    user_no = "U_JOURNEY_1"
    register(page, live_urls, user_no, "110101199001011234")
    account = Account.objects.using("bank").get(account_no=user_no)
    assert account.trade_password.startswith(("argon2", "pbkdf2"))  # hashed, never stored plain
    assert TRADE_PASSWORD not in account.trade_password

    # Recharge 1,000.00 yuan.
    record = start(live_urls, "RECHARGE", user_no, amount=100_000)
    to_bank(page, live_urls, record)
    expect(page.locator("h2")).to_have_text("Recharge from your bound card")
    expect(page.locator("#amount")).to_have_text("¥1,000.00")
    confirm_with_password(page)
    back_to_platform(page, live_urls, record, codes.SUCCESS)
    assert settle(record).status == DepositoryRequest.Status.SUCCESS

    # Withdraw 300.00 yuan, 2.00 yuan commission: 298.00 reaches the card.
    record = start(live_urls, "WITHDRAW", user_no, amount=30_000, commission=200)
    to_bank(page, live_urls, record)
    expect(page.locator("h2")).to_have_text("Withdraw to your bound card")
    expect(page.locator("#amount")).to_have_text("¥300.00")
    expect(page.locator("#commission")).to_have_text("¥2.00")
    expect(page.locator("#net")).to_have_text("¥298.00")
    page.screenshot(path=str(artifacts / "bank-withdraw.png"), full_page=True)
    confirm_with_password(page)
    back_to_platform(page, live_urls, record, codes.SUCCESS)
    assert settle(record).status == DepositoryRequest.Status.SUCCESS

    # Balances agree on both sides, and the ledger still sums to zero.
    query = services.direct_call(service_name="QUERY_BALANCE", payload={"userNo": user_no})
    assert query.status == DepositoryRequest.Status.SUCCESS
    assert (query.response["available"], query.response["frozen"]) == (70_000, 0)
    account.refresh_from_db()
    assert (account.available, account.frozen) == (70_000, 0)
    income = Account.objects.using("bank").get(account_no="PLATFORM_INCOME")
    assert (income.available, income.frozen) == (200, 0)
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []


def test_three_wrong_passwords_fail_the_request_and_lock_the_account(page, live_urls, artifacts):
    user_no = "U_LOCK_1"
    register(page, live_urls, user_no, "110101199001015678")

    record = start(live_urls, "RECHARGE", user_no, amount=50_000)
    to_bank(page, live_urls, record)
    confirm_with_password(page, "000001")
    expect(page.locator(".error")).to_have_text("Wrong trade password. 2 attempts left.")
    confirm_with_password(page, "000002")
    expect(page.locator(".error")).to_have_text("Wrong trade password. 1 attempt left.")
    confirm_with_password(page, "000003")
    back_to_platform(page, live_urls, record, codes.WRONG_PASSWORD)
    record = settle(record)
    assert (record.status, record.resp_code) == (DepositoryRequest.Status.FAIL, codes.WRONG_PASSWORD)
    account = Account.objects.using("bank").get(account_no=user_no)
    assert account.locked_until is not None
    assert account.available == 0

    # A fourth request: the bank says the account is locked, even for the right password.
    fourth = start(live_urls, "RECHARGE", user_no, amount=50_000)
    to_bank(page, live_urls, fourth)
    expect(page.locator(".error")).to_contain_text("locked")
    page.screenshot(path=str(artifacts / "bank-locked.png"), full_page=True)
    confirm_with_password(page)
    expect(page.locator(".error")).to_contain_text("locked")
    bank_req = BankRequest.objects.using("bank").get(request_no=fourth.request_no)
    assert bank_req.status == BankRequest.Status.PROCESSING
    account.refresh_from_db()
    assert account.available == 0


def test_cancel_ends_the_request_with_30004(page, live_urls):
    user_no = "U_CANCEL_1"
    register(page, live_urls, user_no, "110101199001019999")
    record = start(live_urls, "RECHARGE", user_no, amount=10_000)
    to_bank(page, live_urls, record)
    page.click("button[value=cancel]")
    back_to_platform(page, live_urls, record, codes.GATEWAY_ABANDONED)
    record = settle(record)
    assert (record.status, record.resp_code) == (DepositoryRequest.Status.FAIL, codes.GATEWAY_ABANDONED)
    assert Account.objects.using("bank").get(account_no=user_no).available == 0
    assert invariants.total_balance() == 0
