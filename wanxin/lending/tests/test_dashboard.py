"""The back-office dashboard counts the work waiting for each operator, by permission:
lending's and repayments' tiles, registered by those apps."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.lending import services

from .conftest import applied, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def tiles(user) -> dict[str, int]:
    client = Client()
    client.force_login(user)
    html = client.get("/backoffice/").content.decode()
    return {label: int(value) for label, value in
            re.findall(r'<div class="muted">([^<]+)</div><div class="value">(\d+)</div>', html)}


def test_tiles_count_the_work_waiting_for_each_role(live, reviewer, finance):
    applied(customer(kyc_limit=1_000_000_00))  # waiting for review
    project = collecting(customer(kyc_limit=1_000_000_00), reviewer, amount=1_000_00)
    services.tender_place(investor=customer(balance=1_000_00), project_id=project.pk, amount=1_000_00)  # full

    mine = tiles(reviewer)
    assert mine["Loan applications awaiting review"] == 1
    assert mine["Full loans to propose for disbursement"] == 1
    assert mine["Overdue periods"] == 0
    assert "Disbursements awaiting approval" not in mine
    assert "Disbursements awaiting approval" in tiles(finance) and tiles(finance)["Disbursements awaiting approval"] == 0

    services.disbursement_propose(operator=reviewer, project_id=project.pk)
    assert tiles(reviewer)["Full loans to propose for disbursement"] == 0
    theirs = tiles(finance)
    assert (theirs["Disbursements awaiting approval"], theirs["Releases the bank refused"]) == (1, 0)
    assert "Loan applications awaiting review" not in theirs
    assert set(tiles(f.operator(roles.RISK_OFFICER))) == {"Overdue periods", "Customers",
                                                           "Actions blocked by risk rules (24 h)",
                                                           "Allocations in liquidation or below the warning line"}
    assert set(tiles(f.operator(roles.CUSTOMER_SERVICE))) == {"Customers"}
