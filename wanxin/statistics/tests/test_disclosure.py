"""The public disclosure page: live figures from two loans disbursed through the real paths,
one of them to a staff account (related party), one period over 90 days overdue; no login; no
person's data on the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from wanxin.accounts.models import User
from wanxin.bank import invariants
from wanxin.repayments import services as repayments
from wanxin.repayments.models import RepaymentPlan
from wanxin.statistics import disclosure

from .conftest import customer, disbursed

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def test_disclosure_figures_and_page(loan, reviewer, finance):
    first = loan["project"]
    staff = customer(balance=0, kyc_limit=1_000_000_00)
    d_investor = customer(balance=4_000_00)
    second = disbursed(staff, reviewer, finance, [d_investor], [4_000_00], amount=4_000_00, months=2,
                       method="EQUAL_PRINCIPAL")
    User.objects.filter(pk=staff.pk).update(is_staff=True)  # the borrower is a staff account
    period = RepaymentPlan.objects.filter(project=first).order_by("number").first()
    RepaymentPlan.objects.filter(pk=period.pk).update(due_date=timezone.localdate() - dt.timedelta(days=100))
    repayments.overdue_mark()

    d = disclosure.disclosure()
    total = first.amount + second.amount
    assert (d.lent, d.lent_count, d.book.outstanding, d.book.loans) == (total, 2, total, 2)
    assert (d.lenders, d.lenders_now, d.borrowers, d.borrowers_now) == (4, 4, 2, 2)
    assert d.top1 == first.amount and d.top10 == total
    assert d.top1_share == Decimal("71.43") and d.top10_share == Decimal("100.00")  # 10,000 / 14,000
    owed = period.principal + period.interest
    assert (d.book.overdue_amount, d.book.overdue_loans, d.book.overdue_periods) == (owed, 1, 1)
    assert (d.book.over90_amount, d.book.over90_loans, d.book.over90_periods) == (owed, 1, 1)
    assert d.book.overdue_rate == (Decimal(period.principal) * 100 / total).quantize(Decimal("0.01"))
    assert (d.compensation, d.compensation_count) == (0, 0)
    assert (d.related_count, d.related_amount, d.related_outstanding) == (1, second.amount, second.amount)
    this_month = d.months[-1]
    assert len(d.months) == 12 and this_month.month == f"{timezone.localdate():%Y-%m}"
    assert (this_month.lent, this_month.lent_count, this_month.book) == (total, 2, d.book)
    assert all(m.lent == 0 and m.book.outstanding == 0 for m in d.months[:-1])

    page = Client().get("/disclosure")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="monthly-chart"' in html and 'id="monthly-chart-data"' in html
    assert "71.43%" in html and "¥14,000.00" in html and "compensation is 0" in html
    assert "operator or staff account" in html
    for person in (loan["borrower"], loan["a"], loan["b"], loan["c"], staff, d_investor):
        assert person.username not in html and person.user_no not in html
    assert first.project_no not in html and first.name not in html
    assert 'href="/disclosure"' in Client().get("/").content.decode()  # the public footer
    assert invariants.total_balance() == 0


def test_disclosure_of_an_empty_platform_is_zero(db):
    d = disclosure.disclosure()
    assert (d.lent, d.book.outstanding, d.top1_share, d.book.overdue_rate, d.compensation) == (
        0, 0, Decimal("0.00"), Decimal("0.00"), 0)
    assert Client().get("/disclosure").status_code == 200


def test_pages_speak_chinese_by_default(db):
    from wanxin.audit import roles
    from wanxin.backoffice.tests import factories as f

    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    html = Client(**chinese).get("/disclosure").content.decode()
    assert "信息披露" in html and "累计代偿金额" in html and "关联关系借款" in html and "月度历史" in html
    web = Client(**chinese)
    web.force_login(f.operator(roles.FINANCE_OFFICER))
    html = web.get("/backoffice/statistics/").content.decode()
    assert "平台统计" in html and "平台收入（按类别）" in html and "导出 CSV" in html
    assert "结束日期不能晚于今天。" in web.get("/backoffice/statistics/", {"date_to": "2999-01-01"}).content.decode()


def test_the_public_page_is_computed_at_most_once_a_minute(db, settings):
    from django.core.cache import cache

    settings.DISCLOSURE_CACHE_SECONDS = 60
    cache.delete("statistics:disclosure")
    first = Client().get("/disclosure").context["d"]
    assert Client().get("/disclosure").context["d"].as_of == first.as_of
    cache.delete("statistics:disclosure")
    assert Client().get("/disclosure").context["d"].as_of > first.as_of
