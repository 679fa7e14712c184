"""The loan page follows a bid without a reload (site.js polls the bid's status endpoint;
the Content-Security-Policy allows no inline script): "confirming" while the bank has not
answered, then "confirmed" once the recovery job's lookup applies the freeze; and the bank's
refusal for a bid it will not freeze, with the reservation released. Bids are answered at once
and sent by sender threads, as served (``DEPOSITORY_SEND_IN_BACKGROUND``)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import Page, expect

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank import invariants
from wanxin.depository import background
from wanxin.depository import services as depository
from wanxin.lending.models import Project, Tender
from wanxin.lending.tests.conftest import bank_frozen_on, collecting, customer

from .journeys import MARKS, log_in

pytestmark = MARKS
DEAD_BANK = "http://127.0.0.1:9/bank"


def _bid(page: Page, live: str, project: Project, yuan: int) -> int:
    page.goto(f"{live}/loans/{project.pk}/invest?amount={yuan}")
    page.click("#confirm")
    page.wait_for_url(re.compile(re.escape(f"{live}/loans/{project.pk}?bid=") + r"\d+$"))
    page.evaluate("window.stillThisPage = true")  # gone if the page reloads
    return int(page.url.rsplit("=", 1)[1])


def test_bid_shows_confirming_then_confirmed_without_reload(page: Page, journey_settings, settings):
    live = journey_settings
    settings.DEPOSITORY_SEND_IN_BACKGROUND = True
    project = collecting(customer(kyc_limit=1_000_000_00), f.operator(roles.LOAN_REVIEWER), amount=2_000_00)
    investor = customer(balance=5_000_00)
    log_in(page, live, investor, f"/loans/{project.pk}")
    settings.BANK_URL = DEAD_BANK  # the freeze cannot reach the bank yet
    tender_id = _bid(page, live, project, 1000)
    progress = page.locator("#bid-progress")
    expect(progress).to_contain_text("Confirming your investment with the bank")
    expect(progress).to_have_attribute("data-status", "PENDING")
    assert background.drain(30)
    assert Tender.objects.get(pk=tender_id).status == "PENDING"

    settings.BANK_URL = f"{live}/bank"
    depository.pending_recover(older_than=dt.timedelta(0))  # the recovery job
    expect(progress).to_contain_text("Confirmed: your investment is frozen at the bank", timeout=20_000)
    expect(progress).to_have_attribute("data-status", "FROZEN")
    assert page.evaluate("window.stillThisPage") is True
    assert bank_frozen_on(project.project_no) == 1_000_00


def test_bid_refused_by_the_bank_is_shown_and_released(page: Page, journey_settings, settings):
    live = journey_settings
    settings.DEPOSITORY_SEND_IN_BACKGROUND = True
    project = collecting(customer(kyc_limit=1_000_000_00), f.operator(roles.LOAN_REVIEWER), amount=2_000_00)
    poor = customer(balance=300_00)  # the bank will not freeze 1,000 yuan
    log_in(page, live, poor, f"/loans/{project.pk}")
    _bid(page, live, project, 1000)
    progress = page.locator("#bid-progress")
    expect(progress).to_contain_text("The bank refused the investment", timeout=20_000)
    expect(progress).to_have_attribute("data-status", "FAILED")
    assert background.drain(30)
    project.refresh_from_db()
    assert (project.raised, project.frozen_amount) == (0, 0)
    assert invariants.total_balance() == 0
