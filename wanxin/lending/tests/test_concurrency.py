"""Many investors bid at once on one loan whose amount is smaller than their bids together:
the loan is never over-subscribed, the bank's freezes equal what was raised, and every
refused bid (by the platform or by the bank) changed nothing."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from wanxin.bank import invariants
from wanxin.core.errors import WanxinError
from wanxin.depository import outbox
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.lending import services
from wanxin.lending.models import Project, Tender
from wanxin.testing import pooled_connections, session_peak

from .conftest import TERMS, bank_balance, bank_frozen_on, bank_project, collecting, customer

pytestmark = [pytest.mark.django_db(transaction=True, databases=["default", "bank"]), pytest.mark.slow]

BIDDERS = 200  # investors, one bid each
THREADS = BIDDERS  # all released at once
# Each bid holds a platform connection and, at the live server, a bank one: the threads share
# a bounded pool per database (they queue for a connection), so PostgreSQL's default
# max_connections is enough; up to this many transactions still meet at the loan's row.
POOL = 25


@pytest.mark.parametrize("send", ["after_commit", "background"])
def test_no_oversubscription_under_concurrency(live, borrower, reviewer, settings, send):
    """``background``: bids answered at once, their freezes sent by the outbox as BATCHes (as
    served); ``after_commit``: each sent in its bid's thread after commit (the test settings)."""
    import dataclasses

    settings.DEPOSITORY_SEND_IN_BACKGROUND = send == "background"

    project = collecting(borrower, reviewer, amount=100_000_00,
                         terms=dataclasses.replace(TERMS, per_investor_cap=5_000_00))
    rng = random.Random(4)
    plan = []
    for i in range(BIDDERS):
        amount = rng.randrange(1, 51) * 100_00  # 100 .. 5,000 yuan
        # Every tenth investor cannot pay: the bank refuses the freeze (30042).
        balance = amount - 100_00 if i % 10 == 0 else 5_000_00
        plan.append((customer(balance=balance), amount, balance))
    assert sum(a for _, a, _ in plan) > project.amount
    connections.close_all()

    go = threading.Barrier(THREADS, timeout=60)  # every thread is up before any bids
    outcomes: dict[int, str] = {}

    def place(item) -> None:
        investor, amount, _ = item
        go.wait()
        try:
            services.tender_place(investor=investor, project_id=project.pk, amount=amount)
            outcomes[investor.pk] = "placed"
        except WanxinError as exc:
            outcomes[investor.pk] = f"refused:{exc.code}"
        finally:
            connections.close_all()

    with session_peak() as peak, pooled_connections(POOL), ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(place, item) for item in plan]
        for future in futures:
            future.result()
        outbox.drain()  # every freeze answered (at once when sent after commit)
    assert peak["total"] <= 2 * POOL, peak  # the bound held, live server included
    assert peak["default"] == POOL, peak  # more bids at once than connections: they queued

    project.refresh_from_db()
    tenders = {t.investor_id: t for t in Tender.objects.filter(project=project)}
    frozen = [t for t in tenders.values() if t.status == "FROZEN"]
    counts = Counter(t.status for t in tenders.values())
    assert counts.keys() <= {"FROZEN", "FAILED"}, counts  # nothing left pending
    assert counts["FAILED"] > 0 and counts["FROZEN"] > 0
    assert project.raised == project.frozen_amount == sum(t.amount for t in frozen) <= project.amount
    assert bank_frozen_on(project.project_no) == project.raised
    if project.raised == project.amount:
        assert project.status == "FULL" and bank_project(project.project_no).status == "FULL"
    else:
        assert project.amount - project.raised >= project.min_investment
    refused = [o for o in outcomes.values() if o.startswith("refused")]
    assert refused, "the loan should have turned bids away"
    assert len(outcomes) == BIDDERS

    for investor, amount, balance in plan:
        tender = tenders.get(investor.pk)
        mirror = DepositoryAccount.objects.values_list("available", "frozen").get(user=investor)
        if tender is not None and tender.status == "FROZEN":
            assert tender.amount == amount
            assert bank_balance(investor.user_no) == mirror == (balance - amount, amount)
            assert list(FundRecord.objects.filter(user=investor).values_list("type", "amount")) == [
                ("FREEZE", -amount)]
        else:  # refused here or by the bank: the money is where it was, no fund record
            assert bank_balance(investor.user_no) == mirror == (balance, 0)
            assert not FundRecord.objects.filter(user=investor).exists()
            if tender is None:
                assert not DepositoryRequest.objects.filter(user_no=investor.user_no).exists()
            else:
                assert "30042" in tender.fail_reason
    assert Project.objects.get(pk=project.pk).raised <= project.amount
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
    print(f"\n{BIDDERS} bids on {THREADS} threads, sessions at most {peak}: {dict(counts)}, "
          f"{Counter(outcomes.values())}, raised {project.raised} of {project.amount}, {project.status}")
