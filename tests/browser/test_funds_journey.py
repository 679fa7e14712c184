"""The customer's money journey in headless Chromium: register with an SMS code → open the
depository account
through the bank's pages → recharge → see the balance and fund records → withdraw with a
commission → see the commission in the records and the statistics. It runs in Chinese and in
English: selectors are ids and test ids; the texts checked come from ``TEXT`` per language."""

from __future__ import annotations

import re
import secrets

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests.browser.conftest import LANGUAGES
from wanxin.accounts.tests.conftest import _delete_prefixed
from wanxin.bank import invariants, outbox
from wanxin.bank.models import Account
from wanxin.core.identity import resident_id_check_char
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.notifications import backends

from .journeys import MARKS

pytestmark = MARKS

TRADE_PASSWORD = "258013"
TEXT = {
    "zh-CN": {"lang": "zh-hans", "bank": "华信存管银行", "open": "开立存管账户", "recharge": "从绑定银行卡充值",
              "withdraw": "提现到绑定银行卡", "check_char": "校验位不正确", "decimals": "最多保留 2 位小数",
              "RECHARGE": "充值", "WITHDRAW": "提现", "COMMISSION": "提现手续费",
              "rule": "金额的 0.1%，最低 ¥2.00"},
    "en-US": {"lang": "en", "bank": "Huaxin Depository Bank", "open": "Open your depository account",
              "recharge": "Recharge from your bound card", "withdraw": "Withdraw to your bound card",
              "check_char": "check character is wrong", "decimals": "at most 2 decimal places",
              "RECHARGE": "Recharge", "WITHDRAW": "Withdrawal", "COMMISSION": "Withdrawal commission",
              "rule": "0.1% of the amount, at least ¥2.00"},
}
CARD = "6217000000000000004"  # Luhn-valid


def id_number() -> str:
    first17 = f"110101199205{secrets.randbelow(28) + 1:02d}{secrets.randbelow(999):03d}"
    return first17 + resident_id_check_char(first17)


def at_bank(page: Page, live_url: str, text: dict, heading: str) -> str:
    """Wait for the bank's own page (in the browser's language); returns its request number."""
    page.wait_for_url(f"{live_url}/bank/gateway")
    expect(page.locator("html")).to_have_attribute("lang", text["lang"])
    expect(page.locator("header")).to_contain_text(text["bank"])
    expect(page.locator("h2")).to_have_text(text[heading])
    return page.get_by_test_id("bank-request-no").inner_text().strip()


def back_on_platform(page: Page, live_url: str, request_no: str) -> None:
    """The bank sends the browser back; the notification then settles the request and the
    page (which refreshes itself while waiting) shows the result."""
    expect(page.get_by_test_id("bank-result")).to_have_attribute("data-status", "SUCCESS")
    page.wait_for_url(re.compile(re.escape(f"{live_url}/funds/back?") + ".*"))
    assert f"requestNo={request_no}" in page.url
    expect(page.locator("#status")).to_have_attribute("data-status", "PENDING")
    assert outbox.deliver_due() >= 1
    expect(page.locator("#status")).to_have_attribute("data-status", "SUCCESS", timeout=10_000)


@pytest.fixture
def sms_outbox(settings):
    """The memory SMS backend and a key prefix of this test only for codes and counters."""
    prefix = f"wx:sms:journey:{secrets.token_hex(8)}:"
    settings.SMS_CACHE_PREFIX = prefix
    settings.SMS_BACKEND = "wanxin.notifications.backends.MemoryBackend"
    backends.outbox_clear()
    yield backends.outbox
    backends.outbox_clear()
    _delete_prefixed(prefix)


def register(page: Page, live_url: str, outbox, *, username: str, mobile: str) -> None:
    """Register on the customer site with the SMS code the (test) SMS backend received."""
    page.goto(f"{live_url}/accounts/register")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-passphrase-42")
    page.fill("#id_password_confirm", "a-long-passphrase-42")
    page.check("input[name=role][value=INVESTOR]")
    page.fill("#id_mobile", mobile)
    page.click("#send-code")
    expect(page.locator("#sms-status [data-ok='1']")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", [m.text for m in outbox if m.mobile == mobile][-1]).group(1)
    page.fill("#id_code", code)
    page.get_by_test_id("register-submit").click()
    page.wait_for_url(f"{live_url}/accounts/")


@pytest.mark.parametrize("page", LANGUAGES, indirect=True)
def test_open_recharge_withdraw_and_see_the_records(page, request, live_urls, settings, artifacts, sms_outbox):
    text = TEXT[request.node.callspec.params["page"]]
    shot = text["lang"]
    settings.PLATFORM_BASE_URL = live_urls
    settings.FUNDS_WITHDRAW_COMMISSION = {"fixed": 0, "rate": "0.001", "min": 200, "max": 0}
    username = f"journey_{secrets.token_hex(3)}"
    register(page, live_urls, sms_outbox, username=username, mobile=f"139{secrets.randbelow(10**8):08d}")
    user = get_user_model().objects.get(username=username)
    assert user.user_no and user.check_password("a-long-passphrase-42")
    number = id_number()

    # 1. No account yet: open one.
    page.goto(f"{live_urls}/funds/")
    expect(page.locator("#account")).to_have_attribute("data-status", "NONE")
    page.click("#open-account")
    page.fill("#id_full_name", "韩梅梅")
    page.fill("#id_id_number", "110101199001011230")  # wrong check character
    page.select_option("#id_bank_code", "CCB")
    page.fill("#id_card_number", CARD)
    page.click("#submit")
    expect(page.locator("#error-id_number")).to_contain_text(text["check_char"])
    assert not DepositoryRequest.objects.exists()
    page.fill("#id_id_number", number)
    page.screenshot(path=str(artifacts / f"funds-open-account-{shot}.png"), full_page=True)
    page.click("#submit")
    request_no = at_bank(page, live_urls, text, "open")
    expect(page.locator("main")).to_contain_text("CCB ···· 0004")
    page.fill("#password", TRADE_PASSWORD)
    page.fill("#password_again", TRADE_PASSWORD)
    page.click("button[value=confirm]")
    back_on_platform(page, live_urls, request_no)
    page.goto(f"{live_urls}/funds/")
    expect(page.locator("#account")).to_have_attribute("data-status", "OPEN")
    expect(page.locator("#available")).to_have_text("¥0.00")
    expect(page.locator("#masked-card")).to_have_text("CCB 6217 **** **** 0004")
    expect(page.locator("#masked-id")).to_have_text(number[:3] + "*" * 11 + number[-4:])
    assert number not in page.content() and CARD not in page.content()
    assert DepositoryAccount.objects.get(user=user).auth_list == [
        "ALLOCATION", "ALLOCATION_FEE", "ALLOCATION_SETTLE", "TENDER"]

    # 2. Recharge ¥1,000.00.
    page.click("#recharge")
    page.fill("#id_amount", "1000.001")
    page.click("#submit")
    expect(page.locator("#error-amount")).to_contain_text(text["decimals"])
    page.fill("#id_amount", "1000")
    page.click("#submit")
    request_no = at_bank(page, live_urls, text, "recharge")
    expect(page.locator("#amount")).to_have_text("¥1,000.00")
    page.fill("#password", TRADE_PASSWORD)
    page.click("button[value=confirm]")
    back_on_platform(page, live_urls, request_no)

    # 3. The balance and the fund records.
    page.goto(f"{live_urls}/funds/")
    expect(page.locator("#available")).to_have_text("¥1,000.00")
    page.goto(f"{live_urls}/funds/records")
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-type", "RECHARGE")
    expect(rows.first.locator("td").nth(1)).to_have_text(text["RECHARGE"])
    expect(rows.first).to_contain_text("+¥1,000.00")

    # 4. Withdraw ¥300.00: the commission (¥2.00) is shown before confirming.
    page.goto(f"{live_urls}/funds/withdraw")
    expect(page.locator("#commission-rule")).to_contain_text(text["rule"])
    page.fill("#id_amount", "300")
    expect(page.locator("#quote-commission")).to_have_text("¥2.00")  # htmx, as the amount is typed
    page.click("#preview")
    expect(page.locator("#quote-commission")).to_have_text("¥2.00")
    expect(page.locator("#quote-net")).to_have_text("¥298.00")
    page.screenshot(path=str(artifacts / f"funds-withdraw-confirm-{shot}.png"), full_page=True)
    page.click("#confirm")
    request_no = at_bank(page, live_urls, text, "withdraw")
    expect(page.locator("#amount")).to_have_text("¥300.00")
    expect(page.locator("#commission")).to_have_text("¥2.00")
    expect(page.locator("#net")).to_have_text("¥298.00")
    page.fill("#password", TRADE_PASSWORD)
    page.click("button[value=confirm]")
    back_on_platform(page, live_urls, request_no)

    # 5. The commission is in the records; the balances agree with the bank.
    page.goto(f"{live_urls}/funds/records")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator("td").nth(1)).to_have_text(text["COMMISSION"])
    expect(rows.nth(0)).to_contain_text("-¥2.00")
    expect(rows.nth(0).locator("td").nth(3)).to_have_text("¥700.00")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text(text["WITHDRAW"])
    expect(rows.nth(1)).to_contain_text("-¥298.00")
    page.screenshot(path=str(artifacts / f"funds-records-{shot}.png"), full_page=True)
    page.select_option("#id_type", "COMMISSION")
    page.click("#filter")
    expect(rows).to_have_count(1)
    page.goto(f"{live_urls}/funds/")
    expect(page.locator("#available")).to_have_text("¥700.00")
    page.goto(f"{live_urls}/funds/statistics")
    expect(page.locator("#monthly-chart[data-chart-ready] svg")).to_have_count(1)  # drawn by ECharts
    expect(page.locator("#money-out")).to_have_text("¥300.00")
    page.screenshot(path=str(artifacts / f"funds-statistics-{shot}.png"), full_page=True)

    bank = Account.objects.using("bank").get(account_no=user.user_no)
    assert (bank.available, bank.frozen) == (70_000, 0)
    assert list(FundRecord.objects.filter(user=user).order_by("id").values_list("type", "amount", "available_after")) == [
        ("RECHARGE", 100_000, 100_000), ("WITHDRAW", -29_800, 70_200), ("COMMISSION", -200, 70_000)]
    assert invariants.total_balance() == 0
