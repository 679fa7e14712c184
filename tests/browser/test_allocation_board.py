"""The allocation risk board in headless Chromium at phone width (390 px), in Chinese and in
English: a risk officer finds it from the back-office menu; nothing scrolls sideways; the
liquidation row comes first, marked, with its status written out."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import LANGUAGES  # noqa: E402
from wanxin.allocation.tests.test_board import board_allocations  # noqa: E402
from wanxin.audit import roles  # noqa: E402
from wanxin.audit.guards import SYSTEM  # noqa: E402
from wanxin.backoffice import services as backoffice  # noqa: E402
from wanxin.backoffice.tests.factories import ensure_roles  # noqa: E402

from .test_risk_journey import login, no_sideways_scroll  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "bank"]),
]

PASSWORD = "a-long-operator-passphrase-42"
TEXT = {"zh-CN": {"menu": "配资风险", "liquidation": "平仓", "title": "配资风险看板"},
        "en-US": {"menu": "Allocation risk", "liquidation": "Liquidation", "title": "Allocation risk board"}}


@pytest.mark.parametrize("page", LANGUAGES, indirect=True)
def test_the_risk_board_at_phone_width(page, live_urls, settings, request):
    settings.PLATFORM_BASE_URL = live_urls
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    text = TEXT[request.node.callspec.params["page"]]
    made = board_allocations()
    ensure_roles()
    officer, _ = backoffice.operator_create(actor=SYSTEM, username=f"risk_{secrets.token_hex(3)}", password=PASSWORD,
                                            role_names=[roles.RISK_OFFICER])
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_urls, "/backoffice/login", officer.username, PASSWORD, "/backoffice/")
    page.goto(f"{live_urls}/backoffice/")
    page.get_by_test_id("nav-toggle").click()  # the menu is collapsed at phone width
    page.locator("#site-nav a", has_text=text["menu"]).click()
    page.wait_for_url(f"{live_urls}/allocation/desk/risk-board")
    expect(page.locator("h1")).to_have_text(text["title"])
    rows = page.locator("#risk-board tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_have_class("liquidation")
    expect(rows.first).to_contain_text(made["liquidation"].allocation_no)
    expect(rows.first).to_contain_text(text["liquidation"])
    assert page.evaluate("getComputedStyle(document.querySelector('#risk-board tr.liquidation td'))"
                         ".backgroundColor") != "rgba(0, 0, 0, 0)"
    no_sideways_scroll(page)
