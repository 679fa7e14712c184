"""The loan page follows a bid without a reload (site.js polls the bid's status endpoint;
the Content-Security-Policy allows no inline script): "confirming" while the bank has not
answered, then "confirmed" once the recovery job's lookup applies the freeze; and the bank's
refusal for a bid it will not freeze, with the reservation released. Bids are answered at once
and their freezes sent by an outbox sender thread woken by their commit, as served
(``DEPOSITORY_SEND_IN_BACKGROUND``)."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import Page, expect

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank import invariants
from wanxin.depository import outbox
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.lending.models import Project, Tender
from wanxin.lending.tests.conftest import bank_frozen_on, collecting, customer

from .journeys import MARKS, log_in

pytestmark = MARKS
DEAD_BANK = "http://127.0.0.1:9/bank"


@pytest.fixture
def sender(journey_settings, settings):
    """Bids answered at once, one outbox sender thread in this (the live server's) process."""
    settings.DEPOSITORY_SEND_IN_BACKGROUND = True
    thread = outbox.OutboxSender(idle=120)  # woken by the bids' commits (NOTIFY) and its backoffs
    thread.start()
    yield thread
    thread.stop()
    thread.join(10)
    assert not thread.is_alive()


def _sent_unanswered(tender: Tender, timeout: float = 20) -> DepositoryRequest:
    """The tender's freeze once the sender sent it and got no answer (given back, pending)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = DepositoryRequest.objects.get(request_no=tender.request_no)
        if record.attempts and record.claimed_at is None and record.retry_at is not None:
            return record
        time.sleep(0.05)
    raise AssertionError(f"the sender did not try {tender.request_no}")


def _bid(page: Page, live: str, project: Project, yuan: int) -> int:
    page.goto(f"{live}/loans/{project.pk}/invest?amount={yuan}")
    page.click("#confirm")
    page.wait_for_url(re.compile(re.escape(f"{live}/loans/{project.pk}?bid=") + r"\d+$"))
    page.evaluate("window.stillThisPage = true")  # gone if the page reloads
    return int(page.url.rsplit("=", 1)[1])


def test_bid_shows_confirming_then_confirmed_without_reload(page: Page, journey_settings, sender, settings):
    live = journey_settings
    project = collecting(customer(kyc_limit=1_000_000_00), f.operator(roles.LOAN_REVIEWER), amount=2_000_00)
    investor = customer(balance=5_000_00)
    log_in(page, live, investor, f"/loans/{project.pk}")
    settings.BANK_URL = DEAD_BANK  # the freeze cannot reach the bank yet
    tender_id = _bid(page, live, project, 1000)
    progress = page.locator("#bid-progress")
    expect(progress).to_contain_text("Confirming your investment with the bank")
    expect(progress).to_have_attribute("data-status", "PENDING")
    record = _sent_unanswered(Tender.objects.get(pk=tender_id))
    assert record.status == "PENDING" and Tender.objects.get(pk=tender_id).status == "PENDING"

    settings.BANK_URL = f"{live}/bank"
    # The recovery job (or, should the sender hold it right now, the sender's retry after its backoff).
    depository.pending_recover(older_than=dt.timedelta(0))
    expect(progress).to_contain_text("Confirmed: your investment is frozen at the bank", timeout=20_000)
    expect(progress).to_have_attribute("data-status", "FROZEN")
    assert page.evaluate("window.stillThisPage") is True
    assert bank_frozen_on(project.project_no) == 1_000_00


def test_bid_refused_by_the_bank_is_shown_and_released(page: Page, journey_settings, sender):
    live = journey_settings
    project = collecting(customer(kyc_limit=1_000_000_00), f.operator(roles.LOAN_REVIEWER), amount=2_000_00)
    poor = customer(balance=300_00)  # the bank will not freeze 1,000 yuan
    log_in(page, live, poor, f"/loans/{project.pk}")
    _bid(page, live, project, 1000)
    progress = page.locator("#bid-progress")
    expect(progress).to_contain_text("The bank refused the investment", timeout=20_000)
    expect(progress).to_have_attribute("data-status", "FAILED")
    assert outbox.drain() == {"batches": 0, "items": 0}  # the sender sent it, once
    freeze = DepositoryRequest.objects.get(request_no=Tender.objects.get(project=project).request_no)
    assert (freeze.status, freeze.applied_from) == ("FAIL", "batch")
    project.refresh_from_db()
    assert (project.raised, project.frozen_amount) == (0, 0)
    assert invariants.total_balance() == 0
