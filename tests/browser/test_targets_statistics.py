"""Target management, platform statistics and the disclosure page in Chromium at phone width
(390 px), in Chinese and English: nothing scrolls sideways, the ECharts charts are drawn from
their JSON (no inline script: the Content-Security-Policy reports no refusal)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from wanxin.audit import roles  # noqa: E402
from wanxin.backoffice.tests import factories as f  # noqa: E402
from wanxin.lending.tests.conftest import customer  # noqa: E402
from wanxin.notifications import backends  # noqa: E402
from wanxin.repayments import services as repayments  # noqa: E402
from wanxin.repayments.models import RepaymentPlan  # noqa: E402
from wanxin.repayments.tests.conftest import disbursed  # noqa: E402

from .conftest import csp_watch  # noqa: E402
from .test_phone_width import PHONE, check_pages, new_page  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=["default", "bank"])]

PASSWORD = "a-long-operator-passphrase-42"
PAGES = ["/loans/review/targets/", "/loans/review/targets/{loan}", "/loans/review/targets/repayments",
         "/backoffice/statistics/", "/disclosure"]
CHARTS = {"/backoffice/statistics/": ["daily-chart", "income-chart"], "/disclosure": ["monthly-chart"]}


@pytest.fixture
def book(live_urls, settings):
    """A loan disbursed from three investors, its first period 40 days overdue; an operator
    who reviews loans and reads the statistics."""
    settings.PLATFORM_BASE_URL = live_urls
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "wanxin.notifications.backends.MemoryBackend"
    backends.outbox_clear()
    maker, checker = f.operator(roles.LOAN_REVIEWER), f.operator(roles.FINANCE_OFFICER)
    investors = [customer(balance=5_000_00) for _ in range(3)]
    project = disbursed(customer(kyc_limit=1_000_000_00), maker, checker, investors, [5_000_00, 3_000_00, 2_000_00],
                        amount=10_000_00, months=3, method="EQUAL_PRINCIPAL")
    first = RepaymentPlan.objects.filter(project=project).order_by("number").first()
    RepaymentPlan.objects.filter(pk=first.pk).update(due_date=timezone.localdate() - dt.timedelta(days=40))
    repayments.overdue_mark()
    viewer = f.operator(username="targets-viewer")
    viewer.set_password(PASSWORD)
    viewer.save()
    viewer.groups.set(Group.objects.filter(name__in=[roles.LOAN_REVIEWER, roles.FINANCE_OFFICER]))
    yield {"live": live_urls, "loan": project.pk, "viewer": viewer}
    backends.outbox_clear()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_fit_a_phone_and_draw_their_charts(chromium, book, language):
    live = book["live"]
    connections.close_all()  # Playwright's loop runs in this thread: leave no connection open here
    page = new_page(chromium, width=PHONE, language=language)
    refused = csp_watch(page)
    try:
        page.goto(f"{live}/backoffice/login?next=/backoffice/")
        page.fill("#id_username", book["viewer"].username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live}/backoffice/")
        problems = check_pages(page, live, PAGES, width=PHONE, language=language, label="targets", values=book)
        for path, charts in CHARTS.items():
            page.goto(live + path)
            for chart in charts:
                expect(page.locator(f"#{chart}")).to_have_attribute("data-chart-ready", "1")
                expect(page.locator(f"#{chart} svg")).to_have_count(1)
        page.goto(f"{live}/loans/review/targets/repayments")
        expect(page.locator('#aging tr[data-bucket="M2"]')).to_contain_text("1")
        page.goto(f"{live}/")
        expect(page.get_by_test_id("footer-disclosure")).to_be_visible()
    finally:
        page.context.close()
    assert not problems, "\n".join(problems)
    assert not refused, refused
