"""The hot loan benchmark's environment and seed (``benchmarks.hot_loan``): fresh keys and
databases, N funded investors, the hot loan and a small probe loan, both collecting."""

from __future__ import annotations

import os
import random
import time
from decimal import Decimal
from typing import Any

from benchmarks import ledger
from benchmarks.common import configure_environment as configure_databases

PLATFORM_DB, BANK_DB, PGBENCH_DB = "wanxin_hot", "wanxin_hot_bank", "wanxin_hot_pgbench"
REDIS_URL = "redis://127.0.0.1:6379/0"  # keys are namespaced by database name / user number
TARGET_RATIO = 0.15
INCREMENT = 100_00  # fen: 100 yuan
MAX_UNITS = 10  # a bid is 1..10 increments; the per-investor cap is 10 increments
BALANCE = 100_000_00  # fen per investor, far more than the cap
BORROWER_NO, PROBE_BORROWER_NO = "HOTBORROWER", "HOTPROBE"
PROBE_STATEMENT_BIDS = 10  # one at a time, in-process, on the probe loan: SQL statements per bid
PROBE_HTTP_BIDS = 20  # one at a time over HTTP to the platform server: one bid alone, answered
PROBE_BIDS = PROBE_STATEMENT_BIDS + PROBE_HTTP_BIDS


def investor_no(i: int) -> str:
    return f"HOTI{i:05d}"



def configure_environment(platform_port: int, bank_port: int) -> dict[str, dict[str, str]]:
    """Fresh keys and the benchmark's databases for this process and both servers; returns
    the per-server environment (role and where to reach each other)."""
    configure_databases(PLATFORM_DB, BANK_DB)  # keys, DEBUG=0, log levels, WANXIN_ROLE=all for seeding
    platform_url = f"http://127.0.0.1:{platform_port}"
    notify = f"{platform_url}/api/v1/depository/notify"
    os.environ.update({
        "REDIS_URL": REDIS_URL,
        "BANK_URL": f"http://127.0.0.1:{bank_port}/bank",
        "PLATFORM_BASE_URL": platform_url,
        "PLATFORM_NOTIFY_URL": notify,
        "BANK_NOTIFY_URL": notify,
    })
    os.environ.pop("WANXIN_TEST_DB_SUFFIX", None)
    return {"platform": {"WANXIN_ROLE": "platform"}, "bank": {"WANXIN_ROLE": "bank"}}



def seed(n: int, rng: random.Random, oversubscribe: float) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from wanxin.accounts.auth import token_issue
    from wanxin.audit import roles
    from wanxin.backoffice.services import roles_sync
    from wanxin.bank import accounts, staff
    from wanxin.bank.models import Account
    from wanxin.funds.models import DepositoryAccount
    from wanxin.kyc.models import KycApplication
    from wanxin.lending import domain, services

    User = get_user_model()
    started = time.monotonic()
    call_command("migrate", database="default", interactive=False, verbosity=0)
    call_command("migrate", database="bank", interactive=False, verbosity=0)
    migrated = time.monotonic()
    platform_no = settings.PLATFORM_NO
    names = [investor_no(i) for i in range(n)]
    auth = ["REPAYMENT", "TENDER"]

    # The bank: accounts set-based, money through the ledger.
    staff.fund_platform_capital(platform_no=platform_no, amount=BALANCE * (n + 1), staff="benchmark")
    accounts.system(platform_no, Account.Kind.PLATFORM_INCOME)
    Account.objects.using("bank").bulk_create(
        [Account(platform_no=platform_no, account_no=name, kind=Account.Kind.CUSTOMER, status=Account.Status.OPEN,
                 full_name="Hot Investor", id_number=f"110101198001{i:06d}", mobile="13800138000",
                 role="INVESTOR", auth_list=auth) for i, name in enumerate(names)]
        + [Account(platform_no=platform_no, account_no=no, kind=Account.Kind.CUSTOMER, status=Account.Status.OPEN,
                   full_name="Hot Borrower", id_number=f"11010119700101999{k}", mobile="13600000000",
                   role="BORROWER", auth_list=["REPAYMENT"]) for k, no in enumerate((BORROWER_NO, PROBE_BORROWER_NO))]
    )
    caller = ledger.Caller(99, "seed")
    for name in names:
        resp = caller.call("TRANSFER", bizType="COMPENSATION", payer="PLATFORM_CAPITAL", payee=name, amount=BALANCE)
        if resp["respCode"] != ledger.OK:
            raise SystemExit(f"funding {name} failed: {resp}")
    funded = time.monotonic()

    # The platform: users and their open depository accounts set-based, tokens for real.
    now = timezone.now()
    users = User.objects.bulk_create(
        [User(username=f"hot{i:05d}", password=make_password(None), mobile=f"137{i:08d}", role="INVESTOR",
              user_no=name) for i, name in enumerate(names)]
    )
    DepositoryAccount.objects.bulk_create(
        [DepositoryAccount(user=u, user_no=u.user_no, status="OPEN", auth_list=auth, requested_auth=auth,
                           available=BALANCE, mobile=u.mobile, role="INVESTOR", opened_at=now) for u in users]
    )
    tokens = [token_issue(user=u, name="hot_loan") for u in users]
    if not Group.objects.filter(name=roles.LOAN_REVIEWER).exists():
        roles_sync()
    reviewer = User.objects.create_user(username="hotreviewer", password=None, is_operator=True)
    reviewer.groups.set(Group.objects.filter(name=roles.LOAN_REVIEWER))
    reviewer = User.objects.get(pk=reviewer.pk)
    terms = domain.Terms(
        borrower_rate=Decimal("0.120000"), investor_rate=Decimal("0.100000"), service_fee_rate=Decimal("0.020000"),
        window_days=7, min_investment=INCREMENT, increment=INCREMENT, per_investor_cap=MAX_UNITS * INCREMENT)

    def collecting_loan(user_no: str, mobile: str, amount: int):
        """A borrower (accounts set-based, their bank account created above) whose loan goes
        through application_submit and project_approve (CREATE_PROJECT over HTTP)."""
        borrower = User.objects.create_user(username=user_no.lower(), password=None, mobile=mobile,
                                            role="BORROWER", user_no=user_no)
        DepositoryAccount.objects.create(user=borrower, user_no=user_no, status="OPEN", auth_list=["REPAYMENT"],
                                         mobile=mobile, role="BORROWER", opened_at=now)
        KycApplication.objects.create(customer=borrower, status="APPROVED", rating="A", credit_limit=1_000_000_00,
                                      id_number_index=f"hot-loan-{user_no}")
        project = services.application_submit(borrower=borrower, data=services.ApplicationInput(
            amount=amount, months=12, method="EQUAL_INSTALLMENT", purpose="Hot loan benchmark",
            description="Bid on by every investor at once"))
        project = services.project_approve(operator=reviewer, project_id=project.pk, terms=terms)
        if project.status != domain.COLLECTING:
            raise SystemExit(f"the loan is {project.status} after approval: {project.bank_error}")
        return project

    # The bids and the loan they over-subscribe; a small second loan for the one-bid probe.
    units = [rng.randint(1, MAX_UNITS) for _ in range(n)]
    bids = [u * INCREMENT for u in units]
    amount = max(10 * INCREMENT, int(sum(units) / oversubscribe) * INCREMENT)
    project = collecting_loan(BORROWER_NO, "13600000000", amount)
    probe = collecting_loan(PROBE_BORROWER_NO, "13600000001", PROBE_BIDS * INCREMENT)
    done = time.monotonic()
    return {
        "investors": n,
        "project_id": project.pk,
        "project_no": project.project_no,
        "probe_project_id": probe.pk,
        "amount_fen": amount,
        "bids_total_fen": sum(bids),
        "oversubscription_offered": round(sum(bids) / amount, 3),
        "bids": bids,
        "tokens": tokens,
        "seconds": {"migrate": round(migrated - started, 1), "bank": round(funded - migrated, 1),
                    "platform": round(done - funded, 1)},
        "method": {
            "real code paths": ["staff.fund_platform_capital", "TRANSFER COMPENSATION per investor (signed "
                                "pipeline, in-process)", "accounts.auth.token_issue per investor",
                                "lending.services.application_submit and project_approve of the hot "
                                "loan and the probe loan (CREATE_PROJECT over HTTP to the bank gunicorn)"],
            "set-based": ["bank Account rows (OPEN, TENDER authorised)", "platform User rows",
                          "platform DepositoryAccount rows (OPEN, balance mirror)",
                          "borrowers' accounts and approved KYC, the reviewer operator"],
        },
    }
