"""Platform statistics: every figure from a loan made, disbursed and partly repaid through the
real paths (bank over HTTP), the bank's balance file for money under depository, the range
rules, the CSV and who may see it."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank import invariants
from wanxin.lending.tests.conftest import bank_balance, bank_income
from wanxin.reconciliation.tests.conftest import age
from wanxin.repayments import services as repayments
from wanxin.repayments.models import Repayment, RepaymentPlan
from wanxin.statistics import bank, figures
from wanxin.statistics.selectors import DateRange

from .conftest import customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_figures_from_a_loan_disbursed_and_a_period_repaid(loan, finance):
    project, borrower = loan["project"], loan["borrower"]
    first = RepaymentPlan.objects.filter(project=project).order_by("number").first()
    repayment = repayments.repay_start(borrower=borrower, plan_id=first.pk)
    repayment.refresh_from_db()
    first.refresh_from_db()
    assert repayment.status == "DONE" and first.status == "REPAID"
    customers = [borrower, loan["a"], loan["b"], loan["c"]]
    at_bank = sum(sum(bank_balance(u.user_no)) for u in customers)
    income_at_bank = bank_income()
    # The bank writes its balance file for past days only: move both sides' records a day back.
    age(1)
    today = timezone.localdate()
    stats = figures.gather(DateRange(today - dt.timedelta(days=1), today))

    assert (stats.customers.registered, stats.customers.accounts_open) == (len(customers), len(customers))
    # The fixture opens its accounts at the bank directly: the platform has no opening time for them.
    assert stats.customers.accounts_opened_in_range == 0
    assert (stats.lending.raised, stats.lending.raised_count, stats.lending.raised_total) == (project.amount, 1,
                                                                                               project.amount)
    assert stats.lending.repaid_principal == stats.lending.repaid_total == first.principal
    assert stats.book.outstanding == project.amount - first.principal
    assert (stats.book.overdue_amount, stats.book.overdue_rate) == (0, 0)
    # Income: the 2% service fee at disbursement, the interest margin of period 1.
    assert stats.income["loan_fee"] == project.amount * 2 // 100
    assert stats.income["interest_margin"] == first.platform_share == repayment.commission
    assert stats.income["penalty"] == stats.income["prepayment_fee"] == stats.income["withdrawal_fee"] == 0
    assert stats.income_total == income_at_bank
    # Money under depository, from the bank's file at yesterday's close: every customer's money.
    assert stats.depository.day == today - dt.timedelta(days=1) and not stats.depository.error
    assert stats.depository.customers_total == at_bank == 1_000_00 + 5_000_00 + 3_000_00 + 2_000_00 - income_at_bank
    assert stats.depository.customer_accounts == len(customers)
    assert stats.depository.platform_income == income_at_bank
    # Daily volumes: today's tenders, disbursement and repayment.
    by_day = {row["day"]: row for row in stats.daily}
    assert (by_day[today]["invested"], by_day[today]["disbursed"], by_day[today]["repaid"]) == (
        project.amount, project.amount, repayment.total)
    assert sum(row["registered"] for row in stats.daily) == len(customers)

    web = client_for(finance)
    query = {"date_from": (today - dt.timedelta(days=1)).isoformat(), "date_to": today.isoformat()}
    page = web.get("/backoffice/statistics/", query)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="daily-chart"' in html and 'id="daily-chart-data"' in html and 'id="income-chart"' in html
    assert f'data-figure="outstanding" data-value="{project.amount - first.principal}"' in html
    export = web.get("/backoffice/statistics/export.csv", query)
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    head = export.content.decode("utf-8-sig").split("\n\n")[0]
    values = {r["metric"]: r["value"] for r in csv.DictReader(io.StringIO(head))}
    assert values["under_depository"] == f"{at_bank / 100:.2f}"
    assert values["raised"] == f"{project.amount / 100:.2f}" and values["registered"] == str(len(customers))
    assert invariants.total_balance() == 0
    assert Repayment.objects.filter(status="DONE").count() == 1


def test_money_under_depository_says_when_the_bank_is_unreachable(live, outage):
    outage({"DOWNLOAD_STATEMENT"}, lost="request")
    result = bank.under_depository(timezone.localdate() - dt.timedelta(days=1))
    assert result.error == "The bank did not answer; try again later." and result.customers_total == 0


@pytest.mark.parametrize(("params", "message"), [
    ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "The start date must not be after the end date."),
    ({"date_to": "2999-01-01"}, "The end date must not be in the future."),
    ({"date_from": "2024-01-01", "date_to": "2025-06-30"}, "Choose at most 366 days."),
    ({"date_from": "yesterday"}, "Enter a date like 2026-01-31."),
])
def test_bad_ranges_are_refused_with_a_message(params, message):
    web = client_for(f.operator(roles.FINANCE_OFFICER))
    page = web.get("/backoffice/statistics/", params)
    assert page.status_code == 400 and message in page.content.decode()
    assert 'id="figures"' not in page.content.decode()
    export = web.get("/backoffice/statistics/export.csv", params)
    assert export.status_code == 400 and message in export.content.decode()


def test_only_operators_with_fund_statistics_see_them(live):
    for path in ("/backoffice/statistics/", "/backoffice/statistics/export.csv"):
        for role in (roles.FINANCE_OFFICER, roles.SUPER_ADMIN):
            assert client_for(f.operator(role)).get(path).status_code == 200, (path, role)
        for role in (roles.LOAN_REVIEWER, roles.CUSTOMER_SERVICE, roles.RISK_OFFICER):
            assert client_for(f.operator(role)).get(path).status_code == 403, (path, role)
        answer = client_for(customer()).get(path)
        assert answer.status_code == 302 and "/backoffice/login" in answer["Location"]
        assert Client().get(path).status_code == 302
