"""Fixtures of the repayment tests: lending's customers, operators and live bank, and a
loan disbursed to a borrower from three investors (so its plans exist)."""

from __future__ import annotations

import pytest

from wanxin.funds.models import DepositoryAccount
from wanxin.lending import services as lending
from wanxin.lending.models import Project
from wanxin.lending.tests.conftest import (  # noqa: F401  (fixtures)
    _fast,
    collecting,
    customer,
    finance,
    live,
    outage,
    reviewer,
    sms,
)
from wanxin.testing.faults import recover  # noqa: F401  (tests import it from here)


def disbursed(borrower, maker, checker, investors, amounts, **kw) -> Project:
    project = collecting(borrower, maker, **kw)
    for investor, amount in zip(investors, amounts, strict=True):
        lending.tender_place(investor=investor, project_id=project.pk, amount=amount)
    proposal = lending.disbursement_propose(operator=maker, project_id=project.pk)
    lending.disbursement_approve(operator=checker, disbursement_id=proposal.pk)
    project.refresh_from_db()
    assert (project.status, project.bank_status) == ("REPAYING", "REPAYING"), project.bank_error
    return project


@pytest.fixture
def loan(live, reviewer, finance):  # noqa: F811  (the imported fixtures)
    """¥10,000 at 12% (investors 10%), equal principal over 3 months, from A ¥5,000, B ¥3,000
    and C ¥2,000; the borrower had ¥1,000 before (¥10,800 after the 2% fee)."""
    borrower = customer(balance=1_000_00, kyc_limit=1_000_000_00)
    a, b, c = customer(balance=5_000_00), customer(balance=3_000_00), customer(balance=2_000_00)
    project = disbursed(borrower, reviewer, finance, [a, b, c], [5_000_00, 3_000_00, 2_000_00],
                        amount=10_000_00, months=3, method="EQUAL_PRINCIPAL")
    return {"project": project, "borrower": borrower, "a": a, "b": b, "c": c}


def mirror(user) -> tuple[int, int]:
    return DepositoryAccount.objects.values_list("available", "frozen").get(user=user)
