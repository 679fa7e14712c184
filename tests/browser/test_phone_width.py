"""Every customer page at phone width (390 px) in Chinese and in English: nothing scrolls
sideways (``document.documentElement.scrollWidth <= window.innerWidth``), "Log out" stays on
screen, and the collapsed menu opens. A screenshot of each page is saved under
``var/screenshots/<language>/`` for a person to look at.

The pages are plain lists of paths: back-office pages at tablet width (768 px) go in
``OPERATOR_PAGES`` with ``check_pages`` in the same way."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.funds.models import FundRecord
from wanxin.kyc.models import KycApplication
from wanxin.lending import services as lending
from wanxin.lending.tests.conftest import collecting, customer

from .journeys import CUSTOMER_PASSWORD, MARKS

pytestmark = MARKS

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE, TABLET = 390, 768
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}

# Pages anyone sees, and pages of a logged-in customer with data ({loan} is a collecting loan).
PUBLIC_PAGES = ["/", "/accounts/login", "/accounts/login/sms", "/accounts/register", "/accounts/password-reset",
                "/loans/", "/loans/{loan}", "/calculator", "/bank/", "/disclosure"]
CUSTOMER_PAGES = ["/", "/accounts/", "/funds/", "/funds/recharge", "/funds/withdraw", "/funds/records",
                  "/funds/statistics", "/funds/records/{record}", "/kyc/", "/loans/", "/loans/{loan}",
                  "/loans/{loan}/invest", "/loans/mine", "/loans/apply", "/repayments/", "/repayments/portfolio",
                  "/calculator", "/accounts/logout"]
OPERATOR_PAGES: list[str] = []  # tablet width; the back office's own test fills its list

LONG_NAME = "杭州西湖区百年老字号茶馆翻新与扩建项目 Tea house renovation and extension by West Lake"


@pytest.fixture
def market(journey_settings):
    """An investor with money, fund records and a tender in a loan with a long name."""
    live_urls = journey_settings
    borrower = customer(kyc_limit=1_000_000_00)
    loan = collecting(borrower, f.operator(roles.LOAN_REVIEWER), amount=300_000_00, months=12)
    loan.name = LONG_NAME
    loan.save(update_fields=["name"])
    investor = customer(balance=1_234_567_89, auth=["TENDER", "REPAYMENT", "ALLOCATION", "ALLOCATION_FEE"])
    KycApplication.objects.filter(customer=investor).delete()
    KycApplication.objects.create(customer=investor, status="SUBMITTED", real_name="韩梅梅",
                                  id_number="110101199001011237", annual_income=360_000_00, assets=1_000_000_00,
                                  submitted_at=timezone.now(), id_number_index=secrets.token_hex(16))
    lending.tender_place(investor=investor, project_id=loan.pk, amount=1_000_00)
    record = FundRecord.objects.create(user=investor, type="ALLOCATION_FEE", amount=-123_456_78,
                                       available_after=999_999_999_99, frozen_after=100_000_000_00,
                                       request_no=f"WXT{secrets.token_hex(12).upper()}", created_at=timezone.now())
    return {"live": live_urls, "investor": investor, "loan": loan.pk, "record": record.pk}


def new_page(browser: Browser, *, width: int, language: str) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 844}, locale=LOCALES[language])
    context.set_default_timeout(15_000)
    return context.new_page()


def log_in(page: Page, live: str, user) -> None:
    page.goto(f"{live}/accounts/login?next=/funds/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", CUSTOMER_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live}/funds/")


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def check_pages(page: Page, live: str, paths: list[str], *, width: int, language: str, label: str,
                values: dict) -> list[str]:
    """Open each page; returns what is wrong. Saves a full-page screenshot of each."""
    problems = []
    folder = SCREENSHOTS / language
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        url = live + path.format(**values)
        response = page.goto(url)
        assert response is not None and response.status < 400, (url, response and response.status)
        assert page.locator("html").get_attribute("lang") == language, url
        name = f"{width}-{label}-{path.strip('/').replace('/', '_').replace('{', '').replace('}', '') or 'home'}"
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        extra = overflow(page)
        if extra > 0:
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                                 (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''))""")
            problems.append(f"{path} at {width}px ({language}) scrolls sideways by {extra}px: {wide}")
    return problems


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_customer_pages_fit_a_phone(chromium, market, language):
    live = market["live"]
    page = new_page(chromium, width=PHONE, language=language)
    try:
        problems = check_pages(page, live, PUBLIC_PAGES, width=PHONE, language=language, label="public",
                               values=market)
        log_in(page, live, market["investor"])
        # The menu is collapsed behind a button; "Log out" stays on screen beside it.
        nav = page.locator("#site-nav")
        expect(nav).to_be_hidden()
        logout = page.get_by_test_id("logout")
        expect(logout).to_be_visible()
        box = logout.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE
        page.get_by_test_id("nav-toggle").click()
        expect(nav).to_be_visible()
        expect(page.get_by_test_id("nav-portfolio")).to_be_visible()
        problems += check_pages(page, live, CUSTOMER_PAGES, width=PHONE, language=language, label="customer",
                                values=market)
    finally:
        page.context.close()
    assert not problems, "\n".join(problems)
