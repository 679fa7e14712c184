"""The register and login pages in headless Chromium: the "Send code" button (htmx) and forms.

No ORM calls in the test body: under Playwright's event loop Django would open a separate
connection there that nobody closes (and the test database could not be dropped)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from django.core.cache import cache  # noqa: E402
from django.db import connections  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from wanxin.accounts import sms_codes  # noqa: E402

from .conftest import MOBILE, PASSWORD, last_code  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture
def page(live_server):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(locale="en-US")
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_register_with_an_sms_code_then_log_out_and_in_by_sms(page, live_server):
    page.goto(f"{live_server.url}/accounts/register")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_confirm", PASSWORD)
    page.check("input[name=role][value=BOTH]")
    page.fill("#id_mobile", "12345")
    page.click("#send-code")
    expect(page.locator("#sms-status")).to_contain_text("11 digits")
    page.fill("#id_mobile", MOBILE)
    page.click("#send-code")
    expect(page.locator("#sms-status")).to_contain_text("Code sent to 138****8000")
    # htmx swapped only the status line: what was typed is still there.
    expect(page.locator("#id_password")).to_have_value(PASSWORD)
    page.fill("#id_code", last_code(MOBILE))
    page.click("button:text('Register')")
    page.wait_for_url(f"{live_server.url}/accounts/")
    expect(page.locator("#profile")).to_contain_text("138****8000")
    expect(page.locator("#profile")).to_contain_text("Investor and borrower")

    page.click("header >> text=Log out")
    page.click("main button:text('Log out')")
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("header")).to_contain_text("Log in")

    cache.set(sms_codes.resend_key(MOBILE, "login"), time.time() - 61, 60)  # a minute passes
    connections.close_all()  # the database cache (embedded mode) may have opened one here
    page.goto(f"{live_server.url}/accounts/login/sms")
    page.fill("#id_mobile", MOBILE)
    page.click("#send-code")
    expect(page.locator("#sms-status")).to_contain_text("Code sent")
    page.fill("#id_code", last_code(MOBILE))
    page.click("main button:text('Log in')")
    page.wait_for_url(f"{live_server.url}/accounts/")
    expect(page.locator("header")).to_contain_text("alice")
