"""The P2P lending journey in headless Chromium (issue 4): a borrower applies → a loan
reviewer approves (CREATE_PROJECT at the bank) → three investors invest until the loan is
full (each bid frozen at the bank) → the reviewer proposes the disbursement and a finance
officer approves it (CONFIRM_LOAN) → the borrower repays period 1 (REPAYMENT freeze, then
CONFIRM_REPAYMENT) → every investor sees the receipt in the portfolio and the fund records.

The customers' KYC and depository accounts are set up with the lending tests' helpers (the
account-opening journey is ``test_funds_journey``); every lending step is a click here."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from wanxin.audit import roles
from wanxin.bank import invariants, outbox
from wanxin.bank.models import Account, Freeze
from wanxin.funds.models import FundRecord
from wanxin.lending.models import Disbursement, Project, Tender
from wanxin.lending.tests.conftest import bank_project, customer
from wanxin.repayments.models import ReceivablePlan, RepaymentPlan

from .journeys import MARKS, log_in, operator

pytestmark = MARKS


def as_operator(page: Page, live: str, user, next_path: str) -> None:
    log_in(page, live, user, next_path, operator=True, heading="Back-office login")


def flash(page: Page):
    return page.locator("ul.messages li")


def deliver_notifications() -> None:
    """The bank's notifications of what was already answered synchronously: applying them
    again must change nothing (checked by the exact amounts at the end)."""
    outbox.deliver_due()


def bank(user_no: str) -> tuple[int, int]:
    account = Account.objects.using("bank").get(account_no=user_no)
    return account.available, account.frozen


def records(user) -> list[tuple[str, int, int, int]]:
    return list(FundRecord.objects.filter(user=user).order_by("id").values_list(
        "type", "amount", "available_after", "frozen_after"))


def test_apply_review_invest_disburse_repay_and_receive(page, live_urls, journey_settings, artifacts):
    live = live_urls
    borrower = customer(balance=1_000_00, kyc_limit=100_000_00)  # TENDER and REPAYMENT authorised
    investors = [customer(balance=6_000_00, auth=["TENDER"]), customer(balance=3_000_00, auth=["TENDER"]),
                 customer(balance=2_500_00, auth=["TENDER"])]
    amounts = [5_000_00, 3_000_00, 2_000_00]
    reviewer = operator(roles.LOAN_REVIEWER, "reviewer")
    finance = operator(roles.FINANCE_OFFICER, "finance")

    # 1. The borrower applies: ¥10,000 over 3 months, equal principal.
    log_in(page, live, borrower, "/loans/apply")
    expect(page.locator("h1")).to_contain_text("Apply for a loan")
    page.fill("#id_amount", "10000.5")
    page.fill("#id_months", "3")
    page.select_option("#id_method", "EQUAL_PRINCIPAL")
    page.fill("#id_purpose", "Shop renovation")
    page.fill("#id_description", "New shelves and a cold counter for the grocery")
    page.click("#apply-form button[type=submit]")
    expect(page.locator("#apply-form .errorlist")).to_be_visible()
    assert not Project.objects.exists()
    page.fill("#id_amount", "10000")
    page.click("#apply-form button[type=submit]")
    page.wait_for_url(f"{live}/loans/mine")
    expect(flash(page)).to_contain_text("sent for review")
    expect(page.locator("#my-projects tbody tr")).to_have_count(1)
    expect(page.locator("#my-projects tbody tr").first).to_contain_text("¥10,000.00")
    expect(page.locator("#my-projects tbody tr").first).to_contain_text("Pending Review")
    project = Project.objects.get(borrower=borrower)
    assert (project.status, project.amount, project.months, project.method) == (
        "PENDING_REVIEW", 10_000_00, 3, "EQUAL_PRINCIPAL")
    page.goto(f"{live}/loans/")
    assert project.project_no not in page.content()  # not public before the review

    # 2. The loan reviewer approves it with terms: CREATE_PROJECT at the bank.
    as_operator(page, live, reviewer, "/loans/review/")
    expect(page.locator("main")).to_contain_text(project.project_no)
    page.goto(f"{live}/loans/review/{project.pk}")
    expect(page.locator("h1")).to_have_text(f"{project.project_no} · Pending Review")
    for field, value in {"borrower_rate": "12", "investor_rate": "10", "service_fee_rate": "2", "window_days": "7",
                         "min_investment": "100", "increment": "100", "per_investor_cap": "6000"}.items():
        page.fill(f"#id_{field}", value)
    page.screenshot(path=str(artifacts / "lending-review.png"), full_page=True)
    page.click("#approve-form button[type=submit]")
    page.wait_for_url(f"{live}/loans/review/{project.pk}")
    expect(flash(page)).to_contain_text("is collecting investments")
    expect(page.locator("h1")).to_have_text(f"{project.project_no} · Collecting")
    deliver_notifications()
    project.refresh_from_db()
    assert (project.status, project.bank_status, project.bank_error) == ("COLLECTING", "COLLECTING", "")
    assert bank_project(project.project_no).status == "COLLECTING"

    # 3. Three investors invest until the loan is full; each bid is frozen at the bank at once.
    expected = [("¥83.34", "¥5,083.34"), ("¥50.00", "¥3,050.00"), ("¥33.34", "¥2,033.34")]
    raised = 0
    for investor, amount, (interest, total) in zip(investors, amounts, expected, strict=True):
        log_in(page, live, investor, "/loans/")
        row = page.locator("#hall tbody tr", has_text="Shop renovation")
        expect(row).to_have_count(1)
        expect(row.locator("progress")).to_have_attribute("value", str(raised * 100 // 10_000_00))
        expect(row).to_contain_text(f"{raised * 100 // 10_000_00}%")
        row.locator("a").click()
        page.wait_for_url(f"{live}/loans/{project.pk}")
        expect(page.locator("#remaining")).to_have_text(f"¥{(10_000_00 - raised) // 100:,}.00")
        page.fill("#invest-form #id_amount", str(amount // 100))
        page.click("#invest-form button[type=submit]")
        page.wait_for_url(re.compile(re.escape(f"{live}/loans/{project.pk}/invest?") + ".*"))
        expect(page.locator("#expected-interest")).to_have_text(interest)
        expect(page.locator("#expected-total")).to_have_text(total)
        assert not Tender.objects.filter(investor=investor).exists()  # nothing reserved by the quote
        if raised == 0:
            page.screenshot(path=str(artifacts / "lending-invest-confirm.png"), full_page=True)
        page.click("#confirm")
        page.wait_for_url(re.compile(re.escape(f"{live}/loans/{project.pk}?bid=") + r"\d+$"))
        expect(page.locator("#bid-progress")).to_contain_text("frozen at the bank")
        raised += amount
        expect(page.locator("#remaining")).to_have_text(f"¥{(10_000_00 - raised) // 100:,}.00")
        expect(page.locator("#progress")).to_have_attribute("value", str(raised * 100 // 10_000_00))
        # Synchronous: the bank froze the bid before the page came back.
        tender = Tender.objects.get(investor=investor)
        assert (tender.amount, tender.status) == (amount, "FROZEN")
        freeze = Freeze.objects.using("bank").get(request__request_no=tender.request_no)
        assert (freeze.status, freeze.remaining) == ("FROZEN", amount)
        assert bank(investor.user_no) == (
            {5_000_00: 1_000_00, 3_000_00: 0, 2_000_00: 500_00}[amount], amount)
    expect(page.locator("#tenders tbody tr")).to_have_count(3)
    assert investors[2].username not in page.locator("#tenders").inner_text()  # masked
    expect(page.locator("#invest-form")).to_have_count(0)  # full: no more bids
    page.goto(f"{live}/loans/")
    full_row = page.locator("#hall tbody tr", has_text="Shop renovation")
    expect(full_row.locator("progress")).to_have_attribute("value", "100")
    expect(full_row).to_contain_text("Full")
    page.screenshot(path=str(artifacts / "lending-hall-full.png"), full_page=True)
    deliver_notifications()
    project.refresh_from_db()
    assert (project.status, project.bank_status, project.raised, project.frozen_amount) == (
        "FULL", "FULL", 10_000_00, 10_000_00)

    # 4. Maker-checker: the reviewer proposes, a finance officer approves (CONFIRM_LOAN).
    as_operator(page, live, reviewer, f"/loans/review/{project.pk}")
    expect(page.locator("h1")).to_have_text(f"{project.project_no} · Full")
    page.click("#propose-form button[type=submit]")
    expect(flash(page)).to_contain_text("Disbursement proposed")
    proposal = Disbursement.objects.get(project=project)
    assert (proposal.status, proposal.commission) == ("PROPOSED", 200_00)
    as_operator(page, live, finance, "/loans/review/disbursements/")
    row = page.locator("#proposals tbody tr", has_text=project.project_no)
    expect(row).to_contain_text("¥10,000.00")
    expect(row).to_contain_text("¥200.00")
    expect(row).to_contain_text(reviewer.username)
    expect(row).to_contain_text("¥9,800.00")  # what the borrower receives
    page.screenshot(path=str(artifacts / "lending-disbursements.png"), full_page=True)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.locator("button", has_text="Approve").click()
    page.wait_for_url(f"{live}/loans/review/disbursements/")
    expect(flash(page)).to_contain_text("Approved and sent to the bank.")
    assert asked and "Pay ¥9,800.00 to the borrower" in asked[0]
    expect(page.locator("#proposals tbody")).to_contain_text("Nothing to approve.")
    deliver_notifications()
    project.refresh_from_db()
    assert (project.status, project.bank_status) == ("REPAYING", "REPAYING")
    assert Disbursement.objects.get(pk=proposal.pk).status == "DONE"
    assert bank(borrower.user_no) == (10_800_00, 0)
    assert RepaymentPlan.objects.filter(project=project).count() == 3

    # 5. The borrower repays period 1: ¥3,333.34 principal + ¥100.00 interest.
    log_in(page, live, borrower, "/repayments/")
    plans = page.locator(f"#plans-{project.pk} tbody tr")
    expect(plans).to_have_count(3)
    expect(plans.first).to_contain_text("¥3,433.34")
    expect(plans.locator("a", has_text="Repay")).to_have_count(1)  # only the next period is payable
    plans.first.locator("a", has_text="Repay").click()
    expect(page.locator("#confirm-amount")).to_have_text("¥3,433.34")  # what and for which loan, first
    page.click("#confirm")
    page.wait_for_url(f"{live}/repayments/")
    expect(page.get_by_text("Repaid ¥3,433.34.")).to_have_count(1)  # shown once
    expect(plans.first).to_contain_text("Repaid")
    expect(plans.locator("a", has_text="Repay")).to_have_count(1)  # now period 2
    page.screenshot(path=str(artifacts / "lending-repaid.png"), full_page=True)
    deliver_notifications()

    # 6. Every investor sees the receipt in the portfolio and a RECEIVABLE fund record.
    received = {investors[0]: ("¥1,708.33", 170_833), investors[1]: ("¥1,025.00", 102_500),
                investors[2]: ("¥683.34", 68_334)}
    for investor, (text, fen) in received.items():
        log_in(page, live, investor, "/repayments/portfolio")
        expect(page.locator("#summary")).to_contain_text(f"Received{text}")
        expect(page.locator("#tenders tbody tr")).to_have_count(1)
        expect(page.locator("#tenders tbody tr").first).to_contain_text(project.project_no)
        expect(page.locator("#tenders tbody tr").first).to_contain_text("Loaned")
        expect(page.locator("#calendar tbody tr")).to_have_count(3)  # this month's receipt, periods 2 and 3
        expect(page.locator("#calendar tbody tr").first).to_contain_text(text)
        expect(page.locator("#calendar-chart[data-chart-ready] svg")).to_have_count(1)  # ECharts, 3 months
        assert page.evaluate("window.echarts.getInstanceByDom(document.getElementById('calendar-chart'))"
                             ".getOption().xAxis[0].data.length") == 3
        if investor is investors[0]:
            page.screenshot(path=str(artifacts / "lending-portfolio.png"), full_page=True)
        page.goto(f"{live}/funds/records")
        receivable = page.locator("table.records tbody tr[data-type=RECEIVABLE]")
        expect(receivable).to_have_count(1)
        expect(receivable).to_contain_text("Principal and interest received")
        expect(receivable).to_contain_text(f"+{text}")
        expect(receivable).to_have_attribute("data-amount", str(fen))
        if investor is investors[0]:
            page.screenshot(path=str(artifacts / "lending-investor-records.png"), full_page=True)

    # 7. Exact amounts: bank, platform mirror, fund records, and the bank's books balance.
    assert bank(borrower.user_no) == (10_800_00 - 3_433_34, 0)
    assert [bank(i.user_no) for i in investors] == [(1_000_00 + 170_833, 0), (102_500, 0), (500_00 + 68_334, 0)]
    assert Account.objects.using("bank").get(account_no="PLATFORM_INCOME").available == 200_00 + 1_667
    assert records(borrower) == [
        ("LOAN_RECEIVED", 10_000_00, 11_000_00, 0), ("LOAN_COMMISSION", -200_00, 10_800_00, 0),
        ("FREEZE", -3_433_34, 736_666, 3_433_34), ("REPAYMENT", -3_433_34, 736_666, 0)]
    for investor, amount, start, (_, fen) in zip(investors, amounts, [6_000_00, 3_000_00, 2_500_00],
                                                 received.values(), strict=True):
        left = start - amount
        assert records(investor) == [
            ("FREEZE", -amount, left, amount), ("TENDER", -amount, left, 0), ("RECEIVABLE", fen, left + fen, 0)]
    assert list(ReceivablePlan.objects.filter(number=1).order_by("tender_id").values_list(
        "status", "received_amount")) == [("RECEIVED", 170_833), ("RECEIVED", 102_500), ("RECEIVED", 68_334)]
    assert list(RepaymentPlan.objects.filter(project=project).order_by("number").values_list("status", flat=True)) == [
        "REPAID", "DUE", "DUE"]
    assert invariants.total_balance() == 0
