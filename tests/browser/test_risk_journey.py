"""A risk officer's journey in headless Chromium (issue 13): add an ID number to the blacklist,
see a borrower's loan application blocked by it with the reason, find the blocked check in the
log with its inputs, take the entry off the list and see the next application go through. The
officer's pages are used at 768 px wide, with no sideways scroll."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from wanxin.audit import roles
from wanxin.fields import blind_index
from wanxin.kyc.models import KycApplication
from wanxin.lending.models import Project
from wanxin.lending.tests.conftest import customer
from wanxin.risk.models import BlacklistEntry, RuleCheck

from .journeys import MARKS, log_in, no_sideways_scroll, operator

pytestmark = MARKS

ID_NUMBER = "11010519491231002X"
REASON = "The ID number used is on the platform's blacklist."


def apply(page: Page) -> None:
    page.fill("#id_amount", "10000")
    page.fill("#id_months", "6")
    page.select_option("#id_method", "EQUAL_INSTALLMENT")
    page.fill("#id_purpose", "Shop renovation")
    page.click("#apply-form button[type=submit]")


def test_risk_officer_blacklists_an_id_number_and_an_application_is_blocked(page, live_urls, journey_settings):
    live = live_urls
    borrower = customer(kyc_limit=100_000_00)
    KycApplication.objects.filter(customer=borrower).update(id_number=ID_NUMBER, id_number_index=blind_index(ID_NUMBER))
    officer = operator(roles.RISK_OFFICER, "risk")
    page.set_viewport_size({"width": 768, "height": 900})

    # 1. The risk officer adds the ID number to the blacklist.
    log_in(page, live, officer, "/backoffice/", operator=True)
    page.click("header nav >> text=Risk")
    page.wait_for_url(f"{live}/backoffice/risk/")
    no_sideways_scroll(page)
    page.click("main nav >> text=Blacklist")
    page.select_option("#id_kind", "ID_NUMBER")
    page.fill("#id_value", "110105194912310")  # too short first: refused, nothing added
    page.click("#blacklist-form button[type=submit]")
    expect(page.locator("#blacklist-form .errorlist")).to_contain_text("18 characters")
    assert not BlacklistEntry.objects.exists()
    page.fill("#id_value", ID_NUMBER.lower())
    page.fill("#id_note", "Forged documents, case 2026-117")
    page.click("#blacklist-form button[type=submit]")
    expect(page.locator("ul.messages li")).to_contain_text("110***********002X is on the blacklist")
    expect(page.locator("#blacklist tbody tr")).to_have_count(1)
    expect(page.locator("#blacklist tbody tr").first).to_contain_text("In force")
    assert ID_NUMBER not in page.content()
    no_sideways_scroll(page)

    # 2. The borrower's application is refused with the reason; no loan is recorded.
    page.set_viewport_size({"width": 1000, "height": 900})
    log_in(page, live, borrower, "/loans/apply")
    apply(page)
    expect(page.locator("#apply-form .errorlist")).to_contain_text(REASON)
    assert not Project.objects.filter(borrower=borrower).exists()

    # 3. The officer finds the blocked check in the log, with the reason and the masked inputs.
    page.set_viewport_size({"width": 768, "height": 900})
    log_in(page, live, officer, "/backoffice/risk/checks/", operator=True)
    page.select_option("#id_outcome", "BLOCK")
    page.click("main form.filters button[type=submit]")
    rows = page.locator("#checks tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Loan application")
    expect(rows.first).to_contain_text(REASON)
    expect(rows.first).to_contain_text("110***********002X")
    expect(rows.first).to_contain_text(borrower.username)
    no_sideways_scroll(page)
    check = RuleCheck.objects.get(outcome="BLOCK")
    assert check.figures["amount"] == 10_000_00 and check.hits[0]["ref"].startswith("blacklist:")

    # 4. Off the list, the next application goes through.
    page.click("main nav >> text=Blacklist")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#blacklist tbody tr >> text=Expire")
    expect(page.locator("ul.messages li")).to_contain_text("expired")
    log_in(page, live, borrower, "/loans/apply")
    apply(page)
    page.wait_for_url(f"{live}/loans/mine")
    assert Project.objects.get(borrower=borrower).status == "PENDING_REVIEW"
    assert list(RuleCheck.objects.order_by("id").values_list("outcome", flat=True)) == ["BLOCK", "PASS"]
