"""The allocation risk board in headless Chromium at phone width (390 px), in Chinese and in
English: a risk officer finds it from the back-office menu; nothing scrolls sideways; the
liquidation row comes first, marked, with its status written out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANGUAGES
from wanxin.allocation.tests.test_board import board_allocations
from wanxin.audit import roles

from .journeys import MARKS, log_in, no_sideways_scroll, operator

pytestmark = MARKS

TEXT = {"zh-CN": {"menu": "配资风险", "liquidation": "平仓", "title": "配资风险看板"},
        "en-US": {"menu": "Allocation risk", "liquidation": "Liquidation", "title": "Allocation risk board"}}


@pytest.mark.parametrize("page", LANGUAGES, indirect=True)
def test_the_risk_board_at_phone_width(page, live_urls, journey_settings, request):
    text = TEXT[request.node.callspec.params["page"]]
    made = board_allocations()
    officer = operator(roles.RISK_OFFICER, "risk")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_urls, officer, "/backoffice/", operator=True)
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
