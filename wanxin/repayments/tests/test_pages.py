"""The borrower's plans page (Repay, prepay), the investor's portfolio page and API, and the
operators' overdue page with its permissions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank import invariants
from wanxin.lending.tests.conftest import bank_balance
from wanxin.repayments import selectors, services
from wanxin.repayments.models import RepaymentPlan

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_borrower_repays_from_the_page_and_investor_sees_it(loan):
    project, borrower, a = loan["project"], loan["borrower"], loan["a"]
    web = client_for(borrower)
    page = web.get("/repayments/")
    assert page.status_code == 200
    html = page.content.decode()
    assert project.project_no in html and project.name in html and "Prepay" in html
    # Only the next period can be paid; the later ones are upcoming.
    assert html.count(">Repay</a>") == 1 and html.count(">Upcoming<") == 2 and html.count(">Due<") == 1
    plan = RepaymentPlan.objects.filter(project=project).order_by("number").first()
    confirm = web.get(f"/repayments/plans/{plan.pk}/repay").content.decode()
    assert project.name in confirm and "¥3,433.34" in confirm and 'id="repay-form"' in confirm
    assert RepaymentPlan.objects.get(pk=plan.pk).status == "DUE"  # looking pays nothing
    done = web.post(f"/repayments/plans/{plan.pk}/repay", follow=True)
    assert "Repaid ¥3,433.34." in done.content.decode()
    again = web.post(f"/repayments/plans/{plan.pk}/repay", follow=True)
    assert "already repaid" in again.content.decode()
    assert bank_balance(a.user_no) == (170_833, 0)

    investor = client_for(a)
    html = investor.get("/repayments/portfolio").content.decode()
    assert "¥1,708.33" in html and project.project_no in html and 'id="calendar"' in html
    body = investor.get("/api/v1/repayments/portfolio").json()
    assert (body["invested"], body["received_principal"], body["received_interest"]) == (5_000_00, 166_667, 4_166)
    assert body["expected_principal"] == 5_000_00 - 166_667
    # The calendar: this month's receipt, then periods 2 and 3 still expected.
    received, *expected = body["calendar"]
    assert (received["received"], received["amount"]) == (170_833, 0)
    assert [m["received"] for m in expected] == [0, 0] and len(expected) == 2
    assert sum(m["principal"] for m in expected) == 5_000_00 - 166_667 and body["xirr"] is not None
    assert 'id="calendar-chart"' in html
    # 10% a year paid monthly is about 10.47% effective; period 1 came back a month early, so more.
    assert Decimal(body["xirr"]) == selectors.portfolio(a).xirr > Decimal("0.1047")
    assert [t["status"] for t in body["tenders"]] == ["LOANED"]
    # The API: plans, then a repayment of period 2; another customer's period is not found.
    plans = web.get("/api/v1/repayments/plans").json()
    assert [p["status"] for p in plans] == ["REPAID", "DUE", "DUE"]
    assert investor.post(f"/api/v1/repayments/plans/{plans[1]['id']}/repay").status_code == 404
    answer = web.post(f"/api/v1/repayments/plans/{plans[1]['id']}/repay")
    assert answer.status_code == 201 and answer.json()["status"] == "DONE"
    assert web.post(f"/api/v1/repayments/plans/{plans[1]['id']}/repay").status_code == 409
    # Prepay the rest: period 3's principal, interest since period 2's due date (none yet: 0 days
    # counted from a due date in the future) and the 1% fee.
    assert investor.post(f"/api/v1/repayments/projects/{project.pk}/prepay").status_code == 404
    answer = web.post(f"/api/v1/repayments/projects/{project.pk}/prepay")
    assert answer.status_code == 201, answer.content
    assert (answer.json()["status"], answer.json()["principal"], answer.json()["fee"]) == ("DONE", 333_333, 3_333)
    assert [p["status"] for p in web.get("/api/v1/repayments/plans").json()] == ["REPAID"] * 3
    assert web.post(f"/api/v1/repayments/projects/{project.pk}/prepay").status_code == 409
    assert investor.get("/api/v1/repayments/portfolio").json()["expected_principal"] == 0
    assert Client().get("/repayments/portfolio").status_code == 302
    assert invariants.total_balance() == 0


def test_overdue_page_by_bucket_and_permissions(loan, reviewer):
    project = loan["project"]
    plan = RepaymentPlan.objects.filter(project=project).order_by("number").first()
    RepaymentPlan.objects.filter(pk=plan.pk).update(due_date=dt.date.today() - dt.timedelta(days=40))
    services.overdue_mark()
    page = client_for(reviewer).get("/loans/review/overdue")
    assert page.status_code == 200
    html = page.content.decode()
    assert project.project_no in html and "31-60 days · 1 period" in html
    assert client_for(f.operator(roles.RISK_OFFICER)).get("/loans/review/overdue").status_code == 200
    assert client_for(f.operator(roles.FINANCE_OFFICER)).get("/loans/review/overdue").status_code == 403
    assert client_for(loan["borrower"]).get("/loans/review/overdue").status_code in (302, 403)


def test_jobs_are_registered_and_run(loan):
    from wanxin.jobs import jobs

    table = {j.name: j for j in jobs()}
    assert table["repayments.overdue_mark"].func()() == {"overdue": 0, "accrued": 0}
    assert table["repayments.auto_repay"].func()() == {"started": 0, "skipped": 0, "errors": 0}
    assert table["repayments.remind"].func()() == 0
