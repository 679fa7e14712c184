"""A finance officer's reconciliation journey in headless Chromium (issue 13): yesterday a
customer recharged ¥40.00 at the bank and the bank's notification never reached the platform
(planted through the real gateway, as the reconciliation tests do). The officer reconciles the
day, cannot close it while differences are open, re-queries the bank for the recharge (the
platform applies the answer through its normal idempotent path), explains the balance
difference that the late result leaves at the day's close, and closes the day; closing is
audited and cannot be done twice. The pages are used at 768 px, without sideways scroll."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from wanxin.audit import roles
from wanxin.audit.models import AuditLog
from wanxin.bank import invariants
from wanxin.funds import services as funds
from wanxin.funds.models import DepositoryAccount
from wanxin.funds.tests.conftest import (
    at_bank,
    bank_balance,
    make_customer,
    open_account,
    recharged,
)
from wanxin.reconciliation.models import Difference, ReconciliationDay
from wanxin.reconciliation.tests.conftest import age, yesterday

from .journeys import MARKS, log_in, no_sideways_scroll, operator

pytestmark = MARKS

@pytest.fixture
def unheard_recharge(journey_settings):
    """Yesterday: ¥100.00 recharged normally, then ¥40.00 confirmed at the bank whose
    notification the platform never received (its record still PENDING)."""
    customer = make_customer()
    open_account(customer)
    recharged(customer, 100_00)
    lost = funds.recharge_start(user=customer, amount=40_00)
    at_bank(lost)
    age(1)
    return customer, lost


def row(page: Page, kind: str):
    return page.locator("#recon-differences tbody tr", has_text=kind)


def test_finance_officer_reconciles_resolves_and_closes_a_day(page, live_urls, unheard_recharge):
    live = live_urls
    customer, lost = unheard_recharge
    day = yesterday().isoformat()
    officer = operator(roles.FINANCE_OFFICER, "finance")
    assert officer.has_perm("backoffice.close_reconciliation_day")  # created by the system: granted at once
    page.set_viewport_size({"width": 768, "height": 900})

    # 1. Open the day: reconcile yesterday from the list of days.
    log_in(page, live, officer, "/backoffice/", operator=True)
    page.click("header nav >> text=Reconciliation")
    page.wait_for_url(f"{live}/backoffice/reconciliation/")
    page.fill("#recon-run input[name=date]", day)
    page.click("#recon-run button[type=submit]")
    page.wait_for_url(f"{live}/backoffice/reconciliation/{day}/")
    expect(page.locator("ul.messages li")).to_contain_text(f"{day} reconciled")
    expect(page.locator("#recon-differences tbody tr")).to_have_count(2)
    expect(row(page, "Status differs")).to_contain_text(lost.request_no)
    expect(row(page, "Status differs")).to_contain_text("PENDING")
    expect(row(page, "Balance differs")).to_contain_text(customer.user_no)
    expect(page.locator("#recon-open")).to_have_text("2")
    no_sideways_scroll(page)

    # 2. Closing with open differences is refused with the reason; the day stays open.
    page.click("#recon-close button")
    expect(page.locator("#recon-error")).to_contain_text("open differences")
    assert ReconciliationDay.objects.get(date=yesterday()).status == "OPEN"

    # 3. Re-query the bank: the platform applies the recharge it missed; the difference is resolved.
    row(page, "Status differs").locator("button", has_text="Re-query the bank").click()
    expect(page.locator("ul.messages li")).to_contain_text("Resolved")
    expect(row(page, "Status differs")).to_contain_text("Resolved")
    expect(row(page, "Status differs").locator("button")).to_have_count(0)
    lost.refresh_from_db()
    assert lost.status == "SUCCESS"
    account = DepositoryAccount.objects.get(user=customer)
    assert (account.available, account.frozen) == bank_balance(customer.user_no) == (140_00, 0)

    # 4. The balance at yesterday's close still differs (the result was applied today): explained.
    balance = row(page, "Balance differs")
    balance.locator("textarea[name=comment]").fill("Recharge applied today after a re-query; nothing missing.")
    balance.locator("button", has_text="Mark explained").click()
    expect(page.locator("ul.messages li")).to_contain_text("Marked explained")
    expect(row(page, "Balance differs")).to_contain_text("Recharge applied today after a re-query")
    expect(page.locator("#recon-open")).to_have_text("0")

    # 5. Close the day: closed, audited, and not closable again.
    page.click("#recon-close button")
    expect(page.locator("ul.messages li")).to_contain_text(f"{day} closed")
    expect(page.locator("#recon-status")).to_have_text("Closed")
    expect(page.locator("#recon-close")).to_have_count(0)
    expect(page.locator("#recon-differences button")).to_have_count(0)
    no_sideways_scroll(page)
    recon = ReconciliationDay.objects.get(date=yesterday())
    assert recon.status == "CLOSED" and recon.closed_by_id == officer.pk
    assert sorted(Difference.objects.filter(day=recon).values_list("kind", "status")) == [
        ("BALANCE_DIFFERS", "EXPLAINED"), ("STATUS_DIFFERS", "RESOLVED")]
    assert list(AuditLog.objects.filter(actor=officer, action__startswith="reconciliation.")
                .order_by("id").values_list("action", flat=True)) == [
        "reconciliation.run", "reconciliation.requery", "reconciliation.explain", "reconciliation.close_day"]
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
