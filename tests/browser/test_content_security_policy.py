"""The pages satisfy their Content-Security-Policy in a real browser: Chromium reports no
refusal on the public pages, the customer's pages, the API docs and the bank's page (the
journeys in this folder check the hand-off to the bank and the back office the same way,
through the ``page`` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from django.db import connections  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from wanxin.accounts.tests.conftest import PASSWORD, make_customer  # noqa: E402

from .conftest import csp_watch  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC = ["/", "/loans/", "/calculator", "/accounts/login", "/accounts/register", "/accounts/login/sms",
          "/accounts/password-reset", "/backoffice/login", "/bank/", "/dev/sms", "/api/v1/docs"]
CUSTOMER = ["/accounts/", "/funds/", "/funds/records", "/funds/statistics", "/kyc/", "/loans/apply",
            "/loans/mine", "/repayments/", "/repayments/portfolio"]


def test_the_browser_refuses_an_inline_script(live_server, chromium):
    """The check can fail: a page that runs inline code is reported."""
    context = chromium.new_context()
    page = context.new_page()
    refused = csp_watch(page)
    try:
        page.goto(f"{live_server.url}/accounts/login")
        page.evaluate("""() => { const s = document.createElement("script");
                                 s.textContent = "window.ran = true"; document.head.appendChild(s); }""")
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.ran") is None
        assert refused and "script-src" in " ".join(refused)
    finally:
        context.close()


def test_pages_load_without_a_csp_refusal(live_server, page):
    make_customer(username="alice", mobile="13800138000", role="BOTH")
    connections.close_all()  # Playwright's loop runs in this thread: leave no connection open here
    for path in PUBLIC:
        answer = page.goto(f"{live_server.url}{path}")
        assert answer.status == 200, path
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        page.wait_for_load_state("load")
    expect(page.locator("#swagger-ui")).to_be_visible()
    page.goto(f"{live_server.url}/accounts/login")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/")
    for path in CUSTOMER:
        answer = page.goto(f"{live_server.url}{path}")
        assert answer.status == 200, path
        page.wait_for_load_state("load")
