"""The finance officer's pages: permission checks, bad input answered 4xx with a message and
nothing changed, the chart hook without inline script, the dashboard tile."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from wanxin.funds import services as funds
from wanxin.funds.tests.conftest import at_bank, make_customer, open_account, recharged
from wanxin.reconciliation.models import Difference, ReconciliationDay

from .conftest import age, yesterday

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reconciled(live):
    """Yesterday reconciled with two open differences (a recharge the platform never heard of)."""
    user = make_customer()
    open_account(user)
    recharged(user, 100_00)
    at_bank(funds.recharge_start(user=user, amount=40_00))
    age(1)
    return yesterday()


def test_pages_need_the_permission(reviewer, client):
    assert client.get("/backoffice/reconciliation/").status_code == 302  # to the login
    web = browser(reviewer)
    assert web.get("/backoffice/reconciliation/").status_code == 403
    assert web.post("/backoffice/reconciliation/run", {"date": "2026-01-01"}).status_code == 403
    assert not ReconciliationDay.objects.exists()


def test_bad_dates_are_refused_with_a_message(finance):
    web = browser(finance)
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    page = web.post("/backoffice/reconciliation/run", {"date": future})
    assert page.status_code == 400
    assert "not a closed business day" in page.content.decode()
    page = web.post("/backoffice/reconciliation/run", {"date": "someday"})
    assert page.status_code == 400 and "YYYY-MM-DD" in page.content.decode()
    assert not ReconciliationDay.objects.exists()


def test_the_day_from_run_to_close(reconciled, finance):
    web = browser(finance)
    day = reconciled.isoformat()
    response = web.post("/backoffice/reconciliation/run", {"date": day})
    assert response.status_code == 302 and response["Location"] == f"/backoffice/reconciliation/{day}/"
    page = web.get(f"/backoffice/reconciliation/{day}/").content.decode()
    assert page.count('id="difference-') == 2
    assert "Status differs" in page and "Balance differs" in page  # labels, not codes
    # Every level checked; the allocations level says why it is per customer.
    assert "Allocations:" in page and "Not checked yet" not in page and "account totals only" in page
    assert "style=" not in page and "<style" not in page

    # Closing with open differences: 409 and the reason, nothing changed.
    refused = web.post(f"/backoffice/reconciliation/{day}/close")
    assert refused.status_code == 409 and "open differences" in refused.content.decode()
    status = Difference.objects.get(kind="STATUS_DIFFERS")
    balance = Difference.objects.get(kind="BALANCE_DIFFERS")
    empty = web.post(f"/backoffice/reconciliation/differences/{balance.pk}/explain", {"comment": ""})
    assert empty.status_code == 400 and "comment is required" in empty.content.decode()
    assert web.post(f"/backoffice/reconciliation/differences/{status.pk}/requery").status_code == 302
    assert web.post(f"/backoffice/reconciliation/differences/{balance.pk}/explain",
                    {"comment": "Applied late"}).status_code == 302
    assert list(Difference.objects.values_list("status", flat=True).order_by("status")) == ["EXPLAINED", "RESOLVED"]

    dashboard = web.get("/backoffice/").content.decode()
    assert "Open reconciliation differences" in dashboard
    assert web.post(f"/backoffice/reconciliation/{day}/close").status_code == 302
    again = web.post(f"/backoffice/reconciliation/{day}/close")
    assert again.status_code == 409 and "already closed" in again.content.decode()

    days = web.get("/backoffice/reconciliation/").content.decode()
    assert 'data-chart="reconciliation-differences"' in days
    # The chart's data only as JSON (json_script); no executable inline script.
    assert re.findall(r"<script(?![^>]*application/json)(?![^>]*src=)", days) == []
    assert f'"dates": ["{day}"]' in days and '"found": [2]' in days and '"open": [0]' in days
