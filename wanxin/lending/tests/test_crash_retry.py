"""A client retries its submit with the same idempotency key after the platform process was
killed (SIGKILL, a real separate process: ``crash_submit``) at each point of the path: the
retry returns the one tender (or places it once), recovery (QUERY_REQUEST against the real
bank) settles it, and bank and platform agree. The same key with another amount is refused;
two submits with one key at once make one tender; funds submits likewise; keys expire."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from wanxin.bank import invariants
from wanxin.bank.models import Freeze
from wanxin.core.errors import Conflict
from wanxin.depository import idempotency, outbox
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest, IdempotencyKey
from wanxin.funds import services as funds
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.funds.tests.conftest import client_for
from wanxin.lending import services
from wanxin.lending.models import Project, Tender
from wanxin.testing import at_once

from .conftest import bank_balance, bank_frozen_on, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
ROOT = Path(__file__).resolve().parents[3]


def _url(alias: str) -> str:
    entry = settings.DATABASES[alias]
    return f"postgres://{entry['USER']}@{entry['HOST']}:{entry.get('PORT') or 5432}/{entry['NAME']}"


def crash(live: str, **args) -> None:
    """Submit in a separate platform process that is killed at ``args["point"]``."""
    env = {**os.environ, "DATABASE_URL": _url("default"), "BANK_DATABASE_URL": _url("bank"),
           "BANK_URL": f"{live}/bank", "PLATFORM_BASE_URL": live, "WANXIN_ENV": "test",
           "DEPOSITORY_SEND_IN_BACKGROUND": "0", "DJANGO_SETTINGS_MODULE": "wanxin.settings"}
    done = subprocess.run([sys.executable, "-m", "wanxin.lending.tests.crash_submit", json.dumps(args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, (done.returncode, done.stdout, done.stderr[-2000:])  # killed, at the point


def recover() -> dict:
    """What the jobs do for a request left pending: the outbox's drain sends a freeze never
    sent (``depository.outbox_drain``), recovery looks up one sent without an answer."""
    outbox.drain()
    return depository.pending_recover(older_than=dt.timedelta(0))


def agreed(investor, project: Project, amount: int) -> None:
    """One frozen tender of ``amount``, once at the bank and in the platform's mirror."""
    tender = Tender.objects.get(investor=investor)
    assert (tender.status, tender.amount) == ("FROZEN", amount)
    project.refresh_from_db()
    assert project.raised == project.frozen_amount == amount == bank_frozen_on(project.project_no)
    assert Freeze.objects.using("bank").filter(project_no=project.project_no).count() == 1
    mirror = DepositoryAccount.objects.values_list("available", "frozen").get(user=investor)
    assert bank_balance(investor.user_no) == mirror == (5_000_00 - amount, amount)
    assert list(FundRecord.objects.filter(user=investor).values_list("type", "amount")) == [("FREEZE", -amount)]
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []


@pytest.mark.parametrize("point", ["in_transaction", "before_send", "before_apply", "before_answer"])
def test_bid_retried_after_a_kill_is_placed_once(live, borrower, reviewer, point):
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=5_000_00)
    crash(live, what="bid", point=point, user=investor.pk, project=project.pk, amount=1_000_00, key="retry-1")
    committed = Tender.objects.filter(investor=investor).first()
    if point == "in_transaction":  # nothing committed: not the tender, not the key
        assert committed is None and not IdempotencyKey.objects.exists()
        assert Project.objects.get(pk=project.pk).raised == 0
    else:
        assert committed is not None
        assert committed.status == ("FROZEN" if point == "before_answer" else "PENDING")
        assert bank_frozen_on(project.project_no) == (0 if point == "before_send" else 1_000_00)

    again = services.tender_place_once(investor=investor, project_id=project.pk, amount=1_000_00, token="retry-1")
    if committed is not None:
        assert again.pk == committed.pk  # the one tender, whatever it has become
    assert Tender.objects.filter(investor=investor).count() == 1
    recover()  # what the recovery job does for a request left pending
    agreed(investor, project, 1_000_00)
    # And once more, after everything settled: still the one tender, nothing moves.
    assert services.tender_place_once(investor=investor, project_id=project.pk, amount=1_000_00,
                                      token="retry-1").pk == again.pk
    agreed(investor, project, 1_000_00)


def test_key_reused_with_another_amount_or_loan_is_refused(live, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=5_000_00)
    first = services.tender_place_once(investor=investor, project_id=project.pk, amount=1_000_00, token="k-1")
    for amount, project_id in ((500_00, project.pk), (1_000_00, project.pk + 1000)):
        with pytest.raises(Conflict) as refused:
            services.tender_place_once(investor=investor, project_id=project_id, amount=amount, token="k-1")
        assert refused.value.code == "key_reused" and "new key" in refused.value.message
    # The amount as text is the same request.
    assert services.tender_place_once(investor=investor, project_id=project.pk, amount="100000", token="k-1") == first
    agreed(investor, project, 1_000_00)
    # Another investor's key of the same text is theirs alone.
    other = customer(balance=5_000_00)
    assert services.tender_place_once(investor=other, project_id=project.pk, amount=500_00, token="k-1") != first


def test_api_retry_same_answer_and_key_reuse_409(live, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = client_for(customer(balance=5_000_00))
    url = f"/api/v1/loans/projects/{project.pk}/tenders"

    def post(amount, key):
        return investor.post(url, json.dumps({"amount": amount}), content_type="application/json",
                             HTTP_IDEMPOTENCY_KEY=key)

    first, again = post(1_000_00, "api-1"), post(1_000_00, "api-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    reused = post(500_00, "api-1")
    assert reused.status_code == 409 and reused.json()["code"] == "key_reused"
    assert post(500_00, "x" * 65).status_code == 400
    assert Tender.objects.count() == 1


def test_two_submits_with_one_key_at_once_make_one_tender(live, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=5_000_00)
    investor = customer(balance=5_000_00)
    pks = at_once(lambda: services.tender_place_once(investor=investor, project_id=project.pk, amount=1_000_00,
                                                     token="same").pk, 6)
    assert len(set(pks)) == 1  # the others waited on the key's unique index, then got the first one
    agreed(investor, project, 1_000_00)


@pytest.mark.parametrize("point", ["in_transaction", "before_answer"])
def test_funds_submit_retried_after_a_kill_is_made_once(live, point):
    from wanxin.funds.tests.conftest import finish

    user = customer(balance=0)
    crash(live, what="recharge", point=point, user=user.pk, amount=300_00, key="top-up")
    records = DepositoryRequest.objects.filter(user_no=user.user_no, service_name="RECHARGE")
    assert records.count() == (0 if point == "in_transaction" else 1)
    retried = funds.submit_once(user=user, token="top-up", request={"service": "RECHARGE", "amount": 300_00},
                                start=lambda: funds.recharge_start(user=user, amount=300_00))
    assert list(records.values_list("pk", flat=True)) == [retried.pk]
    with pytest.raises(Conflict):  # the same key for a withdrawal is another request
        funds.submit_once(user=user, token="top-up", request={"service": "WITHDRAW", "amount": 300_00},
                          start=lambda: funds.withdraw_start(user=user, amount=300_00))
    assert finish(retried).status == "SUCCESS"
    assert bank_balance(user.user_no) == (300_00, 0)
    assert DepositoryAccount.objects.get(user=user).available == 300_00
    assert invariants.total_balance() == 0


def test_keys_expire_after_a_day(live, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=5_000_00)
    first = services.tender_place_once(investor=investor, project_id=project.pk, amount=500_00, token="old")
    assert idempotency.expire() == 0
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert idempotency.expire() == 1
    # A day later the key is new again: a second bid.
    second = services.tender_place_once(investor=investor, project_id=project.pk, amount=500_00, token="old")
    assert second.pk != first.pk and Tender.objects.filter(investor=investor, status="FROZEN").count() == 2
    from wanxin.jobs import jobs

    assert "depository.idempotency_expire" in {job.name for job in jobs()}
