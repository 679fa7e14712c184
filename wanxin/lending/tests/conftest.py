"""Fixtures of the lending tests: customers with approved KYC and open, funded depository
accounts (opened at the bank directly through its gateway code, mirrored on the platform),
operators of each role, and a loan collecting at the bank."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.bank.tests import helpers as bank_helpers
from wanxin.funds.models import DepositoryAccount
from wanxin.funds.tests.conftest import live  # noqa: F401  (fixture)
from wanxin.kyc.models import KycApplication
from wanxin.lending import domain, services
from wanxin.lending.models import Project
from wanxin.notifications import backends
from wanxin.protocol import signing
from wanxin.testing.bank import bank_balance, bank_frozen_on, bank_income, bank_project  # noqa: F401  (shared)
from wanxin.testing.faults import outage  # noqa: F401  (fixture)

User = get_user_model()

TERMS = domain.Terms(borrower_rate=Decimal("0.120000"), investor_rate=Decimal("0.100000"),
                     service_fee_rate=Decimal("0.020000"), window_days=7, min_investment=100_00,
                     increment=100_00, per_investor_cap=5_000_00)


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "wanxin.notifications.backends.MemoryBackend"
    backends.outbox_clear()
    yield
    backends.outbox_clear()


@pytest.fixture
def sms():
    return backends.outbox


def _key():
    return signing.load_private_key(settings.PLATFORM_PRIVATE_KEY)


def customer(*, balance: int = 0, auth: list[str] | None = None, kyc_limit: int | None = None,
             account: bool = True):
    """A customer; with ``account`` an OPEN depository account at the bank holding ``balance``
    fen (mirrored on the platform), with ``kyc_limit`` an approved KYC with that limit."""
    user_no = f"LT{secrets.token_hex(6).upper()}"
    user = User.objects.create_user(username=f"c{secrets.token_hex(4)}", password="x-pass-9",
                                    mobile=f"139{secrets.randbelow(10**8):08d}", role="BOTH", user_no=user_no)
    if account:
        auth = ["TENDER", "REPAYMENT"] if auth is None else auth
        req = bank_helpers.open_account(_key(), user_no, auth=auth, id_suffix=str(secrets.randbelow(10**8)))
        assert req.resp_code == "00000", req.resp_msg
        if balance:
            assert bank_helpers.recharge(_key(), user_no, balance).resp_code == "00000"
        DepositoryAccount.objects.create(user=user, user_no=user_no, status="OPEN", auth_list=sorted(auth),
                                         available=balance, mobile=user.mobile)
    if kyc_limit is not None:
        KycApplication.objects.create(customer=user, status="APPROVED", rating="A", credit_limit=kyc_limit,
                                      id_number_index=secrets.token_hex(16))
    return user


@pytest.fixture
def reviewer():
    return f.operator(roles.LOAN_REVIEWER)


@pytest.fixture
def finance():
    return f.operator(roles.FINANCE_OFFICER)


@pytest.fixture
def borrower():
    return customer(kyc_limit=1_000_000_00)


def applied(borrower, *, amount: int = 10_000_00, months: int = 6, method: str = "EQUAL_INSTALLMENT") -> Project:
    return services.application_submit(borrower=borrower, data=services.ApplicationInput(
        amount=amount, months=months, method=method, purpose="Shop renovation",
        description="New shelves and a cold counter for the grocery"))


def collecting(borrower, reviewer, *, terms: domain.Terms = TERMS, **kwargs) -> Project:
    project = applied(borrower, **kwargs)
    project = services.project_approve(operator=reviewer, project_id=project.pk, terms=terms)
    project.refresh_from_db()
    assert project.status == "COLLECTING", project.bank_error
    return project
