"""The stock-allocation journey in headless Chromium (issue 12), on a phone-sized screen
with a Chinese browser: apply for a monthly allocation → pay the deposit only → make up
the risk fund → an operator records the call, approves and assigns a sub-account → the
customer reveals the password and turns automatic renewal on (a confirmation) → the operator records a status under the warning line (the
SMS goes) → the customer tops up, the operator approves → the customer applies to
terminate → the operator proposes, a finance officer approves the settlement → the
customer's money at the bank is free and right.

Steps are found by element ids, so the journey reads the same in Chinese and English; the
customer's depository account is set up with the lending tests' helper."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from wanxin.allocation import domain, selectors
from wanxin.allocation.models import Allocation, Product, SubAccount
from wanxin.allocation.tests.conftest import ALLOCATION_AUTH, allocations_agree_with_bank
from wanxin.audit import roles
from wanxin.bank import invariants
from wanxin.bank.models import Account
from wanxin.bank.staff import fund_platform_capital
from wanxin.lending.tests.conftest import customer
from wanxin.notifications import backends

from .journeys import CUSTOMER_PASSWORD, MARKS, log_in, operator

pytestmark = MARKS

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}  # the operators' desk is checked at this width
RAW_CODES = re.compile(r"\b(IN_PROGRESS|DEPOSIT_PAID|TERMINATION_REQUESTED|SETTLEMENT_PROPOSED|SETTLED|WARNING|"
                       r"LIQUIDATION|APPLIED|APPROVED|PENDING|TOP_UP|PROFIT_WITHDRAWAL|MONTHLY|DAILY)\b")


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _fits(page: Page) -> None:
    """Nothing of the page's own content is wider than 390 px (the site header is the web
    app's, checked there)."""
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)""")
    assert wide == [], (page.url, wide)


def _desk_fits(page: Page, live: str, path: str) -> None:
    """An operators' page at 768 px: no sideways scroll of its content, statuses by label."""
    page.set_viewport_size(TABLET)
    try:
        page.goto(f"{live}{path}")
        _fits(page)
        text = page.inner_text("main")
        assert not RAW_CODES.search(text), (path, RAW_CODES.search(text).group(0))
    finally:
        page.set_viewport_size(PHONE)


def _labels_only(page: Page) -> None:
    text = page.inner_text("main")
    assert not RAW_CODES.search(text), (page.url, RAW_CODES.search(text).group(0))


def test_allocation_journey_on_a_phone(phone, journey_settings):
    live, page = journey_settings, phone
    fund_platform_capital(platform_no="WANXIN", amount=50_000_000, staff="journey")
    user = customer(balance=2_000_000, auth=ALLOCATION_AUTH)
    allocation_operator = operator(roles.ALLOCATION_OPERATOR, "allocation")
    finance = operator(roles.FINANCE_OFFICER, "finance")
    # The seeded products again: a transactional test's flush removed the migration's rows.
    importlib.import_module("wanxin.allocation.migrations.0002_seed_products").seed(apps, None)
    monthly = Product.objects.get(code="monthly")

    # The customer picks the monthly product, sees the quote, pays the deposit only.
    log_in(page, live, user, "/allocation/")
    expect(page.locator(f"#product-{monthly.pk}")).to_be_visible()
    _fits(page)
    page.click(f"#product-{monthly.pk} a.button")
    page.fill("#id_deposit", "10000.01")
    page.select_option("#id_multiple", "3")
    page.select_option("#id_duration", "3")
    page.click("#quote-form button[type=submit]")
    expect(page.locator("#q-allocated")).to_contain_text("¥30,000.03")
    expect(page.locator("#q-pay-now")).to_have_text("¥10,750.01")
    expect(page.locator("#fees tbody tr")).to_have_count(3)
    _fits(page)
    page.uncheck("#id_pay_risk_fund")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_url(re.compile(r"/allocation/mine/\d+$"))
    allocation = Allocation.objects.get(customer=user)
    assert allocation.status == domain.DEPOSIT_PAID
    _fits(page)
    _labels_only(page)
    page.goto(f"{live}/allocation/mine")
    _fits(page)
    _labels_only(page)
    page.goto(f"{live}/allocation/mine/{allocation.pk}")

    # … then makes up the risk fund.
    page.click("#risk-fund-form button[type=submit]")
    expect(page.locator("#risk-fund-form")).to_have_count(0)
    allocation.refresh_from_db()
    assert (allocation.status, allocation.risk_fund_frozen) == (domain.PAID, 30_000)

    # The operator records the call, approves and assigns a sub-account.
    account = SubAccount.objects.create(account_id="HS-JOURNEY-1", password="Journey-Pw-1")
    desk = f"/allocation/desk/{allocation.pk}"
    log_in(page, live, allocation_operator, desk, operator=True)
    _desk_fits(page, live, "/allocation/desk/")
    _desk_fits(page, live, desk)
    page.goto(f"{live}{desk}")
    page.select_option("#id_outcome", "CONFIRMED")
    page.fill("#id_call_note", "客户确认")
    page.click("#call-form button[type=submit]")
    page.select_option("#id_sub_account", str(account.pk))
    page.click("#approve-form button[type=submit]")
    allocation.refresh_from_db()
    assert allocation.status in (domain.APPROVED, domain.IN_PROGRESS)
    # Trading starts today or on the next trading day; the journey continues on its first day.
    if allocation.status == domain.APPROVED:
        Allocation.objects.filter(pk=allocation.pk).update(start_date=selectors.today())
        from wanxin.allocation import services

        services.allocations_start()

    # The customer sees the sub-account password after re-entering the login password.
    log_in(page, live, user, f"/allocation/mine/{allocation.pk}")
    page.fill("#id_reveal_password", CUSTOMER_PASSWORD)
    page.click("#reveal-form button[type=submit]")
    expect(page.locator("#sa-password")).to_have_text("Journey-Pw-1")
    _fits(page)

    # The customer turns automatic renewal on: the first confirmation is dismissed (nothing
    # changes), the second accepted.
    page.goto(f"{live}/allocation/mine/{allocation.pk}")
    expect(page.locator("#auto-renew")).to_contain_text("自动续约未开启")
    _fits(page)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#auto-renew-form button[type=submit]")
    expect(page.locator("#auto-renew")).to_contain_text("自动续约未开启")
    allocation.refresh_from_db()
    assert allocation.auto_renew is False
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#auto-renew-form button[type=submit]")
    expect(page.locator("#auto-renew")).to_contain_text("自动续约已开启")
    assert asked and "¥450.00" in asked[0] and "开启自动续约" in asked[0]
    allocation.refresh_from_db()
    assert allocation.auto_renew is True
    _fits(page)
    _labels_only(page)

    # The operator records a status under the warning line: the margin-call SMS goes.
    log_in(page, live, allocation_operator, desk, operator=True)
    page.fill("#id_day", selectors.today().isoformat())
    page.fill("#id_total_assets", "35000")
    page.fill("#id_market_value", "35000")
    page.fill("#id_available_cash", "0")
    page.fill("#id_profit_loss", "-5000.04")
    page.click("#status-form button[type=submit]")
    expect(page.locator("#chart svg")).to_be_visible()
    allocation.refresh_from_db()
    assert allocation.status == domain.WARNING
    _desk_fits(page, live, desk)  # the chart, the lines, the status history
    assert [m.mobile for m in backends.outbox] == [user.mobile]

    # The customer tops up ¥3,000.00; the operator approves; the lines lift it back.
    log_in(page, live, user, f"/allocation/mine/{allocation.pk}")
    page.select_option("#id_kind", "TOP_UP")
    page.fill("#id_amount", "3000")
    page.click("#ask-form button[type=submit]")
    log_in(page, live, allocation_operator, desk, operator=True)
    page.click("#requests form button[type=submit] >> nth=0")
    allocation.refresh_from_db()
    assert (allocation.deposit, allocation.status) == (1_300_001, domain.IN_PROGRESS)

    # The customer applies to terminate; the operator proposes, finance approves.
    log_in(page, live, user, f"/allocation/mine/{allocation.pk}")
    page.fill("#id_reason", "落袋为安")
    page.click("#terminate-form button[type=submit]")
    log_in(page, live, allocation_operator, desk, operator=True)
    page.fill("#id_final_total_assets", "38000")
    page.click("#propose-form button[type=submit]")
    log_in(page, live, finance, desk, operator=True)
    _desk_fits(page, live, desk)
    page.goto(f"{live}{desk}")
    page.click(".settlement form button[type=submit] >> nth=0")
    allocation.refresh_from_db()
    assert allocation.status == domain.SETTLED

    # settle = 3,800,000 − 4,300,004 = −500,004, taken from the deposit; the rest released.
    bank = Account.objects.using("bank").get(account_no=user.user_no)
    assert (bank.available, bank.frozen) == (2_000_000 - 45_000 - 500_004, 0)
    assert invariants.total_balance() == 0
    allocations_agree_with_bank()
    log_in(page, live, user, f"/allocation/mine/{allocation.pk}")
    expect(page.locator("#records")).to_contain_text("-¥5,000.04")
    _fits(page)
    _labels_only(page)
