"""Fixtures of the reconciliation tests: real activity between platform and bank (live
server, real HTTP), moved back to a past business day, since the bank writes its files only
for closed days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from wanxin.allocation.models import Allocation
from wanxin.allocation.models import BankRequest as AllocationBankRequest
from wanxin.allocation.models import FundRecord as AllocationRecord
from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank.models import Account, BalanceChange, BankRequest, Freeze, Notification, Transfer
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.funds.tests.conftest import live  # noqa: F401  (fixture)


def age(days: int = 1) -> None:
    """Move everything both sides recorded so far ``days`` back, as if it happened then."""
    shift = dt.timedelta(days=days)
    bank = "bank"
    BankRequest.objects.using(bank).update(created_at=F("created_at") - shift, finished_at=F("finished_at") - shift)
    BalanceChange.objects.using(bank).update(created_at=F("created_at") - shift)
    Account.objects.using(bank).update(opened_at=F("opened_at") - shift)
    Freeze.objects.using(bank).update(created_at=F("created_at") - shift)
    Transfer.objects.using(bank).update(created_at=F("created_at") - shift)
    Notification.objects.using(bank).update(created_at=F("created_at") - shift)
    DepositoryRequest.objects.update(created_at=F("created_at") - shift, finished_at=F("finished_at") - shift)
    FundRecord.objects.update(created_at=F("created_at") - shift)
    DepositoryAccount.objects.update(opened_at=F("opened_at") - shift)
    Allocation.objects.update(created_at=F("created_at") - shift)
    AllocationBankRequest.objects.update(created_at=F("created_at") - shift)
    AllocationRecord.objects.update(created_at=F("created_at") - shift)


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def finance():
    return f.operator(roles.FINANCE_OFFICER)


@pytest.fixture
def reviewer():
    return f.operator(roles.LOAN_REVIEWER)
