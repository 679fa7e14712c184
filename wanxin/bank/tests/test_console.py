"""The bank staff console: ledger rows are read-only; funding PLATFORM_CAPITAL works."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from wanxin.bank import invariants
from wanxin.bank.models import Account, BankRequest, Freeze, Transfer

pytestmark = pytest.mark.django_db(databases=["default", "bank"])


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("bankstaff", "s@example.com", "a-long-pass-phrase")
    client.force_login(user)
    return client


def test_fund_platform_capital_from_console(staff_client):
    page = staff_client.get("/bank/console/fund-capital/")
    assert page.status_code == 200
    bad = staff_client.post("/bank/console/fund-capital/", {"platform_no": "WANXIN", "amount_fen": "-5"})
    assert bad.status_code == 200 and "greater than or equal to 1" in bad.content.decode()
    assert not BankRequest.objects.using("bank").exists()
    done = staff_client.post("/bank/console/fund-capital/", {"platform_no": "WANXIN", "amount_fen": "123456"})
    assert done.status_code == 302
    capital = Account.objects.using("bank").get(account_no="PLATFORM_CAPITAL")
    assert capital.available == 123456
    assert invariants.total_balance() == 0 and invariants.replay_mismatches() == []


def test_ledger_rows_are_read_only(staff_client):
    assert staff_client.get("/bank/console/bank/transfer/").status_code == 200
    assert staff_client.get("/bank/console/bank/transfer/add/").status_code == 403
    assert staff_client.get("/bank/console/bank/balancechange/add/").status_code == 403


def test_console_needs_staff_login(client):
    response = client.get("/bank/console/bank/account/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_console_shows_money_in_yuan_and_names_rows(staff_client):
    """The console once showed fen (123456) on transfers and "Freeze object (6)" as a name."""
    staff_client.post("/bank/console/fund-capital/", {"platform_no": "WANXIN", "amount_fen": "123456"})
    html = staff_client.get("/bank/console/bank/transfer/").content.decode()
    assert "¥1,234.56" in html and ">123456<" not in html
    changes = staff_client.get("/bank/console/bank/balancechange/").content.decode()
    assert "¥1,234.56" in changes and ">123456<" not in changes
    freeze = Freeze(request=BankRequest(request_no="WXT1"), biz_type="TENDER", amount=100_00, remaining=100_00)
    assert str(freeze) == "TENDER ¥100.00 · WXT1" and "object (" not in str(Transfer(amount=1, debit_id=1, credit_id=2))
