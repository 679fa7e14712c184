# ruff: noqa: F811  (pytest fixtures imported from the repayments tests, used as arguments)
"""The lending and repayment pages on a phone (390 px) and the back office on a tablet
(768 px): no sideways scrolling; at 1280 px amounts and statuses stay on one line; the
charts are drawn by ECharts with a round axis; repaying asks first. Screenshots of every
page go to test-artifacts/layout-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from wanxin.lending.models import Project  # noqa: E402
from wanxin.lending.tests.conftest import collecting, customer  # noqa: E402
from wanxin.repayments.models import RepaymentPlan  # noqa: E402
from wanxin.repayments.tests.conftest import (  # noqa: E402, F401  (fixtures)
    finance,
    live,
    loan,
    reviewer,
    sms,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=["default", "bank"])]

PHONE, TABLET, DESKTOP = 390, 768, 1280


def sign_in(page, live_url: str, user) -> None:
    """The user's session in the browser (the login pages have their own journeys)."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_url}])


def overflow(page) -> int:
    """How far the page's content reaches beyond the window (0 when it fits). The site header
    (web/base.html, its collapsing nav) has its own width test with the customer pages."""
    return page.evaluate("""() => Math.max(0, ...[...document.querySelectorAll('main *')]
        .map(e => Math.ceil(e.getBoundingClientRect().right) - window.innerWidth),
        document.querySelector('main').scrollWidth - document.querySelector('main').clientWidth)""")


def check_fits(page, url: str, name: str, artifacts: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / f"layout-{name}.png"), full_page=True)
    wider = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.closest('main') && e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 8).map(e => `${e.tagName}.${e.className}#${e.id} → ${Math.round(e.getBoundingClientRect().right)}`)""")
    assert overflow(page) <= 0, f"{name} scrolls sideways by {overflow(page)} px: {wider}"


@pytest.fixture
def wide_data(loan, reviewer):
    """Long names and big amounts beside the repaying loan: what breaks a narrow layout."""
    borrower = customer(kyc_limit=10**12)
    long = collecting(borrower, reviewer, amount=999_900_00)
    Project.objects.filter(pk=long.pk).update(
        name="福州老街茶馆装修与扩张项目 Old Street Tea House renovation and expansion in Fuzhou",
        description="Supercalifragilisticexpialidocious-equipment for the tea house 茶馆.")
    return {**loan, "long": long}


def test_customer_pages_fit_a_phone(page, live, wide_data, artifacts):
    page.set_viewport_size({"width": PHONE, "height": 844})
    borrower, investor = wide_data["borrower"], wide_data["a"]
    long = wide_data["long"]
    for name, path in [("hall", "/loans/"), ("hall-search", "/loans/?q=茶"), ("detail", f"/loans/{long.pk}"),
                       ("detail-repaying", f"/loans/{wide_data['project'].pk}"),
                       ("calculator", "/calculator?amount=2020000&rate=0&months=10&method=EQUAL_PRINCIPAL")]:
        check_fits(page, f"{live}{path}", f"phone-{name}", artifacts)
    sign_in(page, live, borrower)
    for name, path in [("apply", "/loans/apply"), ("mine", "/loans/mine"), ("repayments", "/repayments/")]:
        check_fits(page, f"{live}{path}", f"phone-{name}", artifacts)
    sign_in(page, live, investor)
    for name, path in [("invest", f"/loans/{long.pk}/invest?amount=999999999"), ("portfolio", "/repayments/portfolio"),
                       ("mine-investor", "/loans/mine")]:
        check_fits(page, f"{live}{path}", f"phone-{name}", artifacts)
    # The hall's rows are stacked cards on a phone, each value labelled.
    page.goto(f"{live}/loans/")
    expect(page.locator("#hall thead")).to_be_hidden()


def test_amounts_and_statuses_stay_whole_at_desktop_width(page, live, wide_data, artifacts):
    """At 1280 px the hall broke cells mid-word ("Collectin g", "¥30,000.0 0")."""
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.goto(f"{live}/loans/")
    page.screenshot(path=str(artifacts / "layout-desktop-hall.png"), full_page=True)
    broken = page.evaluate("""() => [...document.querySelectorAll('#hall td.money, #hall td.status')]
        .filter(td => { const r = document.createRange(); r.selectNodeContents(td);
                        const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
                        return tops.size > 1; })
        .map(td => td.textContent.trim())""")
    assert broken == [], broken
    assert overflow(page) <= 0


def test_back_office_fits_a_tablet(page, live, wide_data, reviewer, finance, artifacts):
    page.set_viewport_size({"width": TABLET, "height": 1024})
    project = wide_data["project"]
    sign_in(page, live, reviewer)
    for name, path in [("review-queue", "/loans/review/"), ("review-detail", f"/loans/review/{project.pk}"),
                       ("review-long", f"/loans/review/{wide_data['long'].pk}"), ("overdue", "/loans/review/overdue"),
                       ("dashboard", "/backoffice/"), ("customers", "/backoffice/customers/")]:
        check_fits(page, f"{live}{path}", f"tablet-{name}", artifacts)
    sign_in(page, live, finance)
    for name, path in [("disbursements", "/loans/review/disbursements/"), ("releases", "/loans/review/releases")]:
        check_fits(page, f"{live}{path}", f"tablet-{name}", artifacts)


def test_charts_are_drawn_with_a_round_axis(page, live, wide_data, artifacts):
    """The statistics chart's axis ran to ¥500k for a ¥202k maximum; ECharts picks the axis."""
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.goto(f"{live}/calculator?amount=2020000&rate=0&months=10&method=EQUAL_PRINCIPAL")
    chart = page.locator("#schedule-chart[data-chart-ready] svg")
    expect(chart).to_have_count(1)
    top = page.evaluate("window.echarts.getInstanceByDom(document.getElementById('schedule-chart'))"
                        ".getModel().getComponent('yAxis').axis.scale.getExtent()[1]")
    peak = 202_000_00  # each period repays ¥202,000 (fen in the chart's data)
    assert peak <= top <= peak * 1.3, top
    assert page.locator("#schedule tbody tr").count() == 10  # the table stays beside the chart
    page.screenshot(path=str(artifacts / "layout-chart-calculator.png"), full_page=True)
    sign_in(page, live, wide_data["a"])
    page.goto(f"{live}/repayments/portfolio")
    expect(page.locator("#calendar-chart[data-chart-ready] svg")).to_have_count(1)


def test_repaying_asks_first_and_names_the_loan(page, live, wide_data, artifacts):
    project, borrower = wide_data["project"], wide_data["borrower"]
    page.set_viewport_size({"width": PHONE, "height": 844})
    sign_in(page, live, borrower)
    page.goto(f"{live}/repayments/")
    rows = page.locator(f"#plans-{project.pk} tbody tr")
    expect(rows.locator("a", has_text="Repay")).to_have_count(1)
    expect(rows.nth(1)).to_contain_text("Upcoming")
    rows.first.locator("a", has_text="Repay").click()
    expect(page.locator("#confirm-loan")).to_contain_text(project.name)
    expect(page.locator("#confirm-amount")).to_have_text("¥3,433.34")
    page.screenshot(path=str(artifacts / "layout-phone-repay-confirm.png"), full_page=True)
    assert RepaymentPlan.objects.filter(project=project, status="REPAID").count() == 0  # nothing paid yet
    page.click("#confirm")
    page.wait_for_url(f"{live}/repayments/")
    expect(page.locator("ul.messages li")).to_contain_text("Repaid ¥3,433.34.")
    assert RepaymentPlan.objects.filter(project=project, status="REPAID").count() == 1
