"""The allocation risk board: running allocations (applied, paid at the bank, approved and given
account statuses through the services) nearest their liquidation line first, the distance in
yuan and as a share of the deposit, statuses by label, liquidation and warning rows marked,
pages, the status filter, who may open it."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client

from wanxin.allocation import board, domain, selectors, services
from wanxin.allocation.models import Allocation, Product, SubAccount
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank.models import Account
from wanxin.bank.staff import fund_platform_capital

from .conftest import allocation_customer, books_balance

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
DEPOSIT = 500_000  # the smallest deposit: ¥5,000.00, ¥15,000.00 allocated at 3×


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _running(operator) -> Allocation:
    user = allocation_customer(1_000_000)
    allocation = services.allocation_apply(customer=user, data=services.ApplicationInput(
        product_id=Product.objects.get(code="monthly").pk, deposit=DEPOSIT, multiple=3, duration=3))
    services.call_record(operator=operator, allocation_id=allocation.pk, outcome="CONFIRMED")
    account = SubAccount.objects.create(account_id=f"HS-B{allocation.pk}", password="Secret-77")
    services.allocation_approve(operator=operator, allocation_id=allocation.pk, sub_account_id=account.pk)
    # Trading started yesterday (the approval's own start date depends on the clock).
    yesterday = selectors.today() - dt.timedelta(days=1)
    Allocation.objects.filter(pk=allocation.pk).update(status=domain.IN_PROGRESS, start_date=yesterday)
    return Allocation.objects.get(pk=allocation.pk)


def _status(operator, allocation: Allocation, total_assets: int) -> Allocation:
    services.status_record(operator=operator, allocation_id=allocation.pk, status=domain.AccountStatus(
        day=selectors.today(), total_assets=total_assets, market_value=0, available_cash=total_assets,
        profit_loss=total_assets - allocation.deposit - allocation.allocated))
    return Allocation.objects.get(pk=allocation.pk)


def board_allocations() -> dict[str, Allocation]:
    """Four running allocations: well above the lines, between them, below liquidation, and one
    without a status yet (the platform's capital at the bank is enough for all four)."""
    # The seeded products again (a transactional test's flush removes them; seeding is idempotent).
    importlib.import_module("wanxin.allocation.migrations.0002_seed_products").seed(apps, None)
    held = Account.objects.using("bank").filter(account_no="PLATFORM_CAPITAL").values_list("available", flat=True)
    if (held.first() or 0) < 20_000_000:
        fund_platform_capital(platform_no=settings.PLATFORM_NO, amount=20_000_000 - (held.first() or 0), staff="test")
    operator = f.operator(roles.ALLOCATION_OPERATOR)
    calm, warning, liquidation, unrecorded = (_running(operator) for _ in range(4))
    return {"calm": _status(operator, calm, calm.deposit + calm.allocated),
            "warning": _status(operator, warning, (warning.warning_line + warning.liquidation_line) // 2),
            "liquidation": _status(operator, liquidation, liquidation.liquidation_line - 12_345),
            "unrecorded": unrecorded}


@pytest.fixture
def board_data(live):
    return board_allocations()


def test_the_board_lists_running_allocations_nearest_the_line_first(board_data):
    calm, liquidation, warning, unrecorded = (board_data[k] for k in ("calm", "liquidation", "warning", "unrecorded"))
    assert (calm.status, warning.status, liquidation.status) == (domain.IN_PROGRESS, domain.WARNING,
                                                                  domain.LIQUIDATION)
    response = _as(f.operator(roles.RISK_OFFICER)).get("/allocation/desk/risk-board")
    assert response.status_code == 200
    page = response.content.decode()
    numbers = re.findall(r'data-status="\w+">\s*<td data-label="Number">([^<]+)</td>', page)
    assert numbers == [a.allocation_no for a in (liquidation, warning, calm, unrecorded)]
    # Distance in yuan and as a share of the deposit, half up, for the liquidation row.
    distance = liquidation.latest_total_assets - liquidation.liquidation_line
    share = (Decimal(distance) * 100 / DEPOSIT).quantize(Decimal("0.01"))
    row = re.search(rf'<tr class="liquidation" data-status="LIQUIDATION">.*?{liquidation.allocation_no}.*?</tr>',
                    page, re.S).group(0)
    assert f"{share}%" in row and "Liquidation" in row and "LIQUIDATION</" not in row
    assert '<tr class="warning" data-status="WARNING">' in page and "Below the warning line" in page
    assert "No status recorded yet" in page
    # A risk officer reads the board but is not sent to the desk's pages they cannot open.
    assert f"/allocation/desk/{calm.pk}" not in page
    assert "style=" not in page
    books_balance()


def test_the_share_is_rounded_half_up():
    assert domain.liquidation_distance(100_005, liquidation_line=100_000, deposit=1_000_000) == (5, Decimal("0.00"))
    assert domain.liquidation_distance(100_050, liquidation_line=100_000, deposit=1_000_000) == (50, Decimal("0.01"))
    assert domain.liquidation_distance(99_950, liquidation_line=100_000, deposit=1_000_000) == (-50, Decimal("-0.01"))


def test_pages_and_the_status_filter(board_data, monkeypatch):
    monkeypatch.setattr(board, "PAGE_SIZE", 2)
    web = _as(f.operator(roles.ALLOCATION_OPERATOR))
    first = web.get("/allocation/desk/risk-board").content.decode()
    assert "Page 1 of 2 · 4 rows" in first and first.count("data-status=") == 2
    second = web.get("/allocation/desk/risk-board?page=2").content.decode()
    assert board_data["unrecorded"].allocation_no in second
    assert f'/allocation/desk/{board_data["calm"].pk}' in second  # the desk is theirs
    only = web.get("/allocation/desk/risk-board?status=WARNING").content.decode()
    assert only.count("data-status=") == 1 and board_data["warning"].allocation_no in only
    bad = web.get("/allocation/desk/risk-board?status=SETTLED")
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()


def test_who_may_open_the_board(db):
    assert Client().get("/allocation/desk/risk-board")["Location"].startswith("/backoffice/login?next=")
    for role in roles.ROLES:
        expected = 200 if role in (roles.RISK_OFFICER, roles.ALLOCATION_OPERATOR, roles.SUPER_ADMIN) else 403
        assert _as(f.operator(role)).get("/allocation/desk/risk-board").status_code == expected, role
