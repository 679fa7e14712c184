"""Fixtures of the allocation tests: customers with open, funded depository accounts at the
bank (the lending tests' helper), the live server both sides talk through, fast hashing."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db.models import F

from wanxin.bank import invariants
from wanxin.bank.tests import helpers as bank_helpers
from wanxin.funds.models import DepositoryAccount
from wanxin.funds.tests.conftest import live  # noqa: F401  (fixture)
from wanxin.lending.tests.conftest import _key, bank_balance, bank_income, customer  # noqa: F401
from wanxin.notifications import backends

ALLOCATION_AUTH = ["ALLOCATION", "ALLOCATION_FEE", "ALLOCATION_SETTLE"]


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "wanxin.notifications.backends.MemoryBackend"
    backends.outbox_clear()
    yield
    backends.outbox_clear()


@pytest.fixture(autouse=True)
def _products(request):
    """The seeded products again: a transactional test's flush removes migration data."""
    if request.node.get_closest_marker("django_db"):
        seeding = importlib.import_module("wanxin.allocation.migrations.0002_seed_products")
        with request.getfixturevalue("django_db_blocker").unblock():
            seeding.seed(apps, None)


def allocation_customer(balance: int, *, auth: list[str] | None = None):
    return customer(balance=balance, auth=ALLOCATION_AUTH if auth is None else auth)


def recharge(user, amount: int) -> None:
    """Money arrives at the bank and the platform's mirror learns of it."""
    assert bank_helpers.recharge(_key(), user.user_no, amount).resp_code == "00000"
    DepositoryAccount.objects.filter(user=user).update(available=F("available") + amount)


def books_balance() -> None:
    """The bank's accounts sum to zero and replay to their balances, and every allocation's
    records agree with the bank."""
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
    assert invariants.negative_customers() == 0
    allocations_agree_with_bank()


def allocations_agree_with_bank() -> None:
    """What each allocation says is frozen is what remains of its freezes at the bank, and
    its fees paid are its fee records."""
    from django.db.models import Sum

    from wanxin.allocation.models import Allocation, BankRequest
    from wanxin.bank.models import Freeze

    for allocation in Allocation.objects.all():
        freezes = allocation.bank_requests.filter(status="SUCCESS", purpose__in=[
            BankRequest.Purpose.DEPOSIT, BankRequest.Purpose.TOP_UP, BankRequest.Purpose.INCREASE,
            BankRequest.Purpose.RISK_FUND]).values_list("request_no", flat=True)
        at_bank = (Freeze.objects.using("bank").filter(request__request_no__in=list(freezes), status="FROZEN")
                   .aggregate(total=Sum("remaining"))["total"] or 0)
        assert allocation.deposit_frozen + allocation.risk_fund_frozen == at_bank, allocation
        records = allocation.fund_records
        paid = -(records.filter(kind="FEE_PAID").aggregate(t=Sum("amount"))["t"] or 0)
        refunded = records.filter(kind="FEE_REFUNDED").aggregate(t=Sum("amount"))["t"] or 0
        assert allocation.fees_paid == paid - refunded, allocation
