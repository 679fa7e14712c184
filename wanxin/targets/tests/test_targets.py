"""Target management: the list (filters, search, pages, CSV, queues), a project's timeline,
repayment monitoring with the aging buckets, and who may see them."""

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
from wanxin.depository.models import DepositoryRequest
from wanxin.lending import services as lending
from wanxin.lending.models import Disbursement, Project
from wanxin.lending.tests.conftest import TERMS, applied, collecting
from wanxin.repayments import services as repayments
from wanxin.repayments.models import RepaymentPlan
from wanxin.targets import monitoring, selectors, timeline

from .conftest import customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows_of(html: str) -> int:
    return html.count('<tr data-project="')


def test_queues_of_work(live, reviewer, outage):
    waiting = applied(customer(kyc_limit=1_000_000_00), amount=2_000_00)
    # Approved while the bank is unreachable: waiting for the bank to register and publish it.
    outage({"CREATE_PROJECT"}, lost="request")
    publishing = lending.project_approve(operator=reviewer, project_id=applied(
        customer(kyc_limit=1_000_000_00), amount=3_000_00).pk, terms=TERMS)
    outage.stop()
    assert publishing.status == "PENDING_REVIEW" and publishing.create_request_no
    full = collecting(customer(kyc_limit=1_000_000_00), reviewer, amount=1_000_00, months=3)
    lending.tender_place(investor=customer(balance=1_000_00), project_id=full.pk, amount=1_000_00)
    closed = collecting(customer(kyc_limit=1_000_000_00), reviewer, amount=1_000_00, months=3)
    # Its window closed unfilled (the miscarry job has not run yet).
    Project.objects.filter(pk=closed.pk).update(collect_until=timezone.now() - dt.timedelta(minutes=1))
    assert Project.objects.get(pk=full.pk).status == "FULL"
    assert selectors.queue_counts() == {"review": 1, "publish": 1, "cancel": 1, "full": 1}
    web = client_for(reviewer)
    for queue, project in (("review", waiting), ("publish", publishing), ("full", full), ("cancel", closed)):
        html = web.get("/loans/review/targets/", {"queue": queue}).content.decode()
        assert rows_of(html) == 1 and project.project_no in html, queue
    proposal = lending.disbursement_propose(operator=reviewer, project_id=full.pk)
    assert proposal.status == "PROPOSED" and selectors.queue_counts()["full"] == 0


def test_list_filters_search_export(loan, reviewer):
    repaying = loan["project"]
    waiting = applied(customer(kyc_limit=1_000_000_00), amount=2_000_00, months=6, method="EQUAL_INSTALLMENT")
    web = client_for(reviewer)

    page = web.get("/loans/review/targets/")
    assert page.status_code == 200
    html = page.content.decode()
    assert rows_of(html) == 2 and repaying.project_no in html and waiting.project_no in html
    assert 'data-queue="review"' in html and f'href="/loans/review/targets/{repaying.pk}"' in html

    by_status = web.get("/loans/review/targets/", {"status": "REPAYING"}).content.decode()
    assert rows_of(by_status) == 1 and repaying.project_no in by_status and waiting.project_no not in by_status
    # Amounts are typed in yuan: 5,000–20,000 keeps the ¥10,000 loan, not the ¥2,000 one.
    by_amount = web.get("/loans/review/targets/", {"amount_min": "5000", "amount_max": "20000"}).content.decode()
    assert rows_of(by_amount) == 1 and repaying.project_no in by_amount
    by_borrower = web.get("/loans/review/targets/", {"borrower": waiting.borrower.username}).content.decode()
    assert rows_of(by_borrower) == 1 and waiting.project_no in by_borrower
    search = web.get("/loans/review/targets/", {"q": repaying.project_no[-6:]}).content.decode()
    assert rows_of(search) == 1 and repaying.project_no in search
    today = timezone.localdate()
    in_range = web.get("/loans/review/targets/", {"date_from": today.isoformat(), "date_to": today.isoformat()})
    assert rows_of(in_range.content.decode()) == 2
    before = web.get("/loans/review/targets/", {"date_to": (today - dt.timedelta(days=1)).isoformat()})
    assert rows_of(before.content.decode()) == 0

    export = web.get("/loans/review/targets/export.csv", {"status": "REPAYING"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [(r["project_no"], r["amount_yuan"], r["status"], r["status_label"]) for r in table] == [
        (repaying.project_no, "10000.00", "REPAYING", "Repaying")]
    assert table[0]["borrower"] == loan["borrower"].username and table[0]["loaned_at"]


@pytest.mark.parametrize(("params", "message"), [
    ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "The end date must not be before the start date."),
    ({"amount_min": "500", "amount_max": "100"}, "The largest amount must not be below the smallest."),
    ({"amount_min": "abc"}, "Amount from (yuan)"),
    ({"date_from": "31/01/2026"}, "Enter a date like 2026-01-31."),
    ({"status": "NOPE"}, "Choose one of the statuses listed."),
])
def test_bad_filters_are_refused_with_a_message(reviewer, params, message):
    web = client_for(reviewer)
    page = web.get("/loans/review/targets/", params)
    assert page.status_code == 400 and message in page.content.decode()
    assert 'id="targets"' not in page.content.decode()
    export = web.get("/loans/review/targets/export.csv", params)
    assert export.status_code == 400 and message in export.content.decode()


def test_timeline_merges_status_tenders_bank_requests_and_audit_in_time_order(loan, reviewer, finance):
    project = Project.objects.get(pk=loan["project"].pk)
    events = timeline.timeline(project)
    assert [e.at for e in events] == sorted(e.at for e in events)
    kinds = {e.kind for e in events}
    assert kinds == {timeline.STATUS, timeline.TENDER, timeline.BANK, timeline.AUDIT}
    # Every bank request of the project and of what it owns, each once.
    tenders = list(project.tenders.all())
    disbursement = Disbursement.objects.get(project=project, status="DONE")
    owned = set(DepositoryRequest.objects.filter(owner_type="lending.project", owner_id=project.pk)
                .values_list("request_no", flat=True))
    owned |= {t.request_no for t in tenders} | {disbursement.request_no}
    assert sorted(e.reference for e in events if e.kind == timeline.BANK) == sorted(owned)
    assert project.create_request_no in owned
    assert len([e for e in events if e.kind == timeline.TENDER]) == len(tenders) == 3
    # Who changed the status: the reviewer approved, the finance officer's approval disbursed it.
    status = [(e.title, e.who) for e in events if e.kind == timeline.STATUS]
    assert ("Approved with terms", reviewer.username) in status
    assert ("Disbursed: Repaying", finance.username) in status
    audits = [(e.title, e.who) for e in events if e.kind == timeline.AUDIT]
    assert audits == [("Loan approved", reviewer.username), ("Disbursement proposed", reviewer.username),
                      ("Disbursement approved", finance.username)]

    html = client_for(reviewer).get(f"/loans/review/targets/{project.pk}").content.decode()
    assert html.count('<tr data-kind="') == len(events)
    assert project.create_request_no in html and disbursement.request_no in html and "Loan approved" in html
    assert client_for(reviewer).get("/loans/review/targets/999999").status_code == 404


def test_repayment_monitoring_and_aging_buckets(loan, reviewer):
    project, borrower = loan["project"], loan["borrower"]
    first, second, third = RepaymentPlan.objects.filter(project=project).order_by("number")
    today = timezone.localdate()
    RepaymentPlan.objects.filter(pk=first.pk).update(due_date=today - dt.timedelta(days=40))
    RepaymentPlan.objects.filter(pk=second.pk).update(due_date=today)
    RepaymentPlan.objects.filter(pk=third.pk).update(due_date=today + dt.timedelta(days=5))
    repayments.overdue_mark()
    first.refresh_from_db()
    assert first.status == "OVERDUE" and first.penalty > 0

    buckets = {b["name"]: b for b in monitoring.aging(today)}
    assert (buckets["M2"]["periods"], buckets["M2"]["loans"], buckets["M2"]["principal"], buckets["M2"]["owed"]) == (
        1, 1, first.principal, first.owed)
    assert buckets["M1"]["periods"] == buckets["M3"]["periods"] == buckets["M3+"]["periods"] == 0
    assert buckets["Total"]["owed"] == first.owed

    sections = {s.code: s for s in monitoring.sections(today, 7)}
    assert (sections["today"].count, sections["today"].principal) == (1, second.principal)
    assert (sections["soon"].count, sections["soon"].principal) == (1, third.principal)
    assert (sections["overdue"].count, sections["overdue"].owed) == (1, first.owed)
    assert sections["repaid"].count == 0

    repayments.repay_start(borrower=borrower, plan_id=first.pk)
    first.refresh_from_db()
    assert first.status == "REPAID"
    sections = {s.code: s for s in monitoring.sections(today, 7)}
    assert (sections["repaid"].count, sections["repaid"].owed) == (1, first.paid_amount)
    assert sections["overdue"].count == 0

    web = client_for(reviewer)
    html = web.get("/loans/review/targets/repayments").content.decode()
    assert 'id="aging"' in html and f'data-principal="{second.principal}"' in html
    assert web.get("/loans/review/targets/repayments", {"days": "0"}).status_code == 400
    assert web.get("/loans/review/targets/repayments", {"days": "x"}).status_code == 400
    assert invariants.total_balance() == 0


def test_only_loan_reviewers_see_target_management(live, reviewer):
    project = collecting(customer(kyc_limit=1_000_000_00), reviewer)
    paths = ["/loans/review/targets/", "/loans/review/targets/export.csv", "/loans/review/targets/repayments",
             f"/loans/review/targets/{project.pk}"]
    for path in paths:
        assert client_for(reviewer).get(path).status_code == 200, path
        # A customer is sent to the back-office login; an operator of another role is refused.
        answer = client_for(customer()).get(path)
        assert answer.status_code == 302 and "/backoffice/login" in answer["Location"], path
        assert Client().get(path).status_code == 302
        for role in (roles.CUSTOMER_SERVICE, roles.FINANCE_OFFICER, roles.RISK_OFFICER):
            assert client_for(f.operator(role)).get(path).status_code == 403, (path, role)


def test_pages_speak_chinese_by_default(reviewer):
    web = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(reviewer)
    html = web.get("/loans/review/targets/").content.decode()
    assert "标的管理" in html and "待审核" in html and "导出 CSV" in html
    html = web.get("/loans/review/targets/repayments").content.decode()
    assert "逾期账龄分布" in html and "今日到期" in html and "M3+" in html
