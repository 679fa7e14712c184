"""The KYC journey in headless Chromium: a customer declares, uploads and submits; a
reviewer logs in to the back office, rejects with a reason; the customer fixes it and
resubmits; the reviewer approves; the customer sees the rating and the limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from wanxin.backoffice.tests import factories as f
from wanxin.kyc.models import KycApplication

from .helpers import ID_NUMBER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        chromium.opened = []
        try:
            yield chromium
        finally:
            for context in chromium.opened:  # closes keep-alive sockets, so server threads end
                context.close()
            chromium.close()
            # ORM calls made while Playwright's loop runs use their own connection; close it
            # here, or the test database cannot be dropped at the end of the run.
            connections.close_all()


def new_page(browser, base_url: str, user=None):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US", base_url=base_url)
    context.set_default_timeout(15_000)
    browser.opened.append(context)
    if user is not None:  # the customer login pages belong to the accounts app; log in directly
        client = Client()
        client.force_login(user)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": base_url}])
    return context.new_page()


def test_kyc_journey(browser, live_server, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    customer = f.customer()
    reviewer = f.reviewer()
    files = {"front.jpg": f.JPEG, "back.png": f.png_bytes(), "statement.pdf": f.PDF, "back2.png": f.png_bytes(3, 3)}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)

    page = new_page(browser, live_server.url, customer)
    page.goto("/kyc/")
    page.get_by_label("Real name (as on your ID card)").fill("张三丰")
    page.get_by_label("Resident ID number").fill(ID_NUMBER)
    page.get_by_label("Annual income (yuan)").fill("300000")
    page.get_by_label("Total assets (yuan)").fill("1500000")
    page.get_by_role("button", name="Save declarations").click()
    page.get_by_text("Your declarations are saved.").wait_for()
    for kind, name in [("ID_CARD_FRONT", "front.jpg"), ("ID_CARD_BACK", "back.png"),
                       ("BANK_STATEMENT", "statement.pdf")]:
        page.get_by_label("Document kind").select_option(kind)
        page.get_by_label("File (JPEG, PNG or PDF; ID cards as images)").set_input_files(tmp_path / name)
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("uploaded.").wait_for()
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_test_id("kyc-status").get_by_text("Submitted, awaiting review").wait_for()
    page.screenshot(path=ARTIFACTS / "kyc-submitted.png", full_page=True)

    ops = new_page(browser, live_server.url)
    ops.goto("/backoffice/")
    assert "/backoffice/login" in ops.url
    ops.get_by_label("Username").fill(reviewer.username)
    ops.get_by_label("Password").fill(f.PASSWORD)
    ops.get_by_role("button", name="Log in").click()
    ops.get_by_role("link", name="KYC review").click()
    ops.get_by_role("row", name=customer.username).get_by_role("link").click()
    ops.get_by_text("Approving now gives rating A").wait_for()
    ops.screenshot(path=ARTIFACTS / "kyc-review.png", full_page=True)
    ops.get_by_label("Reason (required to reject; the customer reads it)").fill("The back side is cut off")
    ops.get_by_role("button", name="Reject").click()
    ops.get_by_text("rejected.").wait_for()

    page.reload()
    page.get_by_text("Reason: The back side is cut off").wait_for()
    page.get_by_label("Document kind").select_option("ID_CARD_BACK")
    page.get_by_label("File (JPEG, PNG or PDF; ID cards as images)").set_input_files(tmp_path / "back2.png")
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Submit again").click()
    page.get_by_test_id("kyc-status").get_by_text("Submitted, awaiting review").wait_for()

    ops.get_by_role("link", name="KYC review").click()
    ops.get_by_role("row", name=customer.username).get_by_role("link").click()
    ops.get_by_role("button", name="Approve").click()
    ops.get_by_text("approved.").wait_for()

    page.reload()
    assert page.get_by_test_id("kyc-rating").inner_text() == "A"
    assert page.get_by_test_id("kyc-limit").inner_text() == "¥180,000.00"
    page.screenshot(path=ARTIFACTS / "kyc-approved.png", full_page=True)
    application = KycApplication.objects.get(customer=customer)
    assert (application.status, application.submission_count, application.credit_limit) == ("APPROVED", 2, 18_000_000)



def test_super_admin_manages_operators_and_reads_the_audit_log(browser, live_server):
    from wanxin.accounts.models import User
    from wanxin.audit import roles

    ARTIFACTS.mkdir(exist_ok=True)
    admin = f.operator(roles.SUPER_ADMIN, username="boss")
    ops = new_page(browser, live_server.url)
    ops.goto("/backoffice/login")
    ops.get_by_label("Username").fill(admin.username)
    ops.get_by_label("Password").fill(f.PASSWORD)
    ops.get_by_role("button", name="Log in").click()
    ops.get_by_role("link", name="Operators", exact=True).click()
    ops.get_by_role("link", name="New operator").click()
    ops.get_by_label("Username").fill("lin")
    ops.get_by_label("Loan reviewer").check()
    ops.get_by_role("button", name="Create operator").click()
    ops.get_by_text("Operator lin created. Initial password (shown once):").wait_for()
    row = ops.get_by_role("row", name="lin")
    row.get_by_label("Risk officer").check()
    row.get_by_role("button", name="Save roles").click()
    ops.get_by_text("Operator lin updated.").wait_for()
    ops.screenshot(path=ARTIFACTS / "backoffice-operators.png", full_page=True)
    ops.get_by_role("link", name="Audit log", exact=True).click()
    ops.get_by_label("Operator").fill("boss")
    ops.get_by_role("button", name="Filter").click()
    assert ops.locator("table.data tbody tr").count() == 3  # login, create, roles
    ops.screenshot(path=ARTIFACTS / "backoffice-audit.png", full_page=True)
    lin = User.objects.get(username="lin")
    assert sorted(lin.groups.values_list("name", flat=True)) == [roles.LOAN_REVIEWER, roles.RISK_OFFICER]
