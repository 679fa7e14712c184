"""A bid answered at once (``DEPOSITORY_SEND_IN_BACKGROUND``, as served): the tender comes back
``PENDING`` ("confirming") while the outbox sends its freeze to the bank; its status endpoint (the
investor's own only) says confirmed or the bank's refusal once the answer is applied, and a
refused bid's reservation is released. The loan page shows the bid's progress box that
site.js polls."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from wanxin.bank import invariants
from wanxin.depository import outbox
from wanxin.depository import services as depository
from wanxin.funds.tests.conftest import client_for
from wanxin.lending.models import Project, Tender

from .conftest import bank_frozen_on, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
DEAD_BANK = "http://127.0.0.1:9/bank"  # nothing listens: the bank is unreachable


@pytest.fixture
def answered_at_once(live, settings):
    settings.DEPOSITORY_SEND_IN_BACKGROUND = True
    yield live
    assert outbox.drain()["items"] == 0  # nothing left waiting


def _bid(client: Client, project: Project, amount: int):
    return client.post(f"/api/v1/loans/projects/{project.pk}/tenders", json.dumps({"amount": amount}),
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"bid-{amount}")


def test_answered_pending_then_confirmed_by_the_bank(answered_at_once, borrower, reviewer, settings):
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=5_000_00)
    web = client_for(investor)
    settings.BANK_URL = DEAD_BANK  # the sender cannot reach the bank: the bid stays confirming
    answer = _bid(web, project, 1_000_00)
    assert answer.status_code == 201 and answer.json()["status"] == "PENDING"
    tender_id = answer.json()["id"]
    assert outbox.drain() == {"batches": 1, "items": 1}  # sent, no answer: given back, not spun on
    status = web.get(f"/api/v1/loans/tenders/{tender_id}/status").json()
    assert status["status"] == "PENDING" and status["final"] is False and "Confirming" in status["message"]
    page = web.get(f"/loans/{project.pk}", {"bid": tender_id}).content.decode()
    assert f'data-poll="/loans/tenders/{tender_id}/status"' in page and "Confirming" in page
    assert 'id="errors"' not in page  # ?bid= is not a preview amount

    settings.BANK_URL = f"{answered_at_once}/bank"
    assert depository.pending_recover(older_than=dt.timedelta(0)) == {"resent": 1}
    status = web.get(f"/loans/tenders/{tender_id}/status")
    assert status.headers["Cache-Control"] == "no-store"
    assert status.json() == {"id": tender_id, "status": "FROZEN", "label": "Frozen", "final": True,
                             "message": "Confirmed: your investment is frozen at the bank until the loan is "
                                        "disbursed."}
    page = web.get(f"/loans/{project.pk}", {"bid": tender_id}).content.decode()
    assert "data-poll" not in page and "Confirmed" in page
    chinese = web.get(f"/api/v1/loans/tenders/{tender_id}/status", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese["message"] == "已确认：您的投资已在银行冻结，放款后生效。" and chinese["status"] == "FROZEN"
    project.refresh_from_db()
    assert project.raised == project.frozen_amount == bank_frozen_on(project.project_no) == 1_000_00

    # Only the investor sees their bid's progress.
    stranger = client_for(customer(balance=0))
    assert stranger.get(f"/api/v1/loans/tenders/{tender_id}/status").status_code == 404
    assert stranger.get(f"/loans/tenders/{tender_id}/status").status_code == 404
    assert "bid-progress" not in stranger.get(f"/loans/{project.pk}", {"bid": tender_id}).content.decode()
    for bad in ("²", "9" * 25, "-1", "1e3", ""):  # bad input: the page as it is, no box, no error
        page = web.get(f"/loans/{project.pk}", {"bid": bad})
        assert page.status_code == 200 and "bid-progress" not in page.content.decode()
    assert Client().get(f"/api/v1/loans/tenders/{tender_id}/status").status_code == 401
    assert Client().get(f"/loans/tenders/{tender_id}/status").status_code == 302  # to the login page
    assert invariants.total_balance() == 0


def test_refused_by_the_bank_releases_the_reservation(answered_at_once, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=2_000_00)
    poor = client_for(customer(balance=500_00))  # the bank refuses a freeze of 1,000 yuan
    answer = _bid(poor, project, 1_000_00)
    assert answer.status_code == 201 and answer.json()["status"] in ("PENDING", "FAILED")
    assert outbox.drain() == {"batches": 1, "items": 1}
    status = poor.get(f"/api/v1/loans/tenders/{answer.json()['id']}/status").json()
    assert status["status"] == "FAILED" and status["final"] and "The bank refused the investment" in status["message"]
    assert "30042" in status["message"]
    project.refresh_from_db()
    assert (project.raised, project.frozen_amount) == (0, 0)  # released: another investor can take it
    rich = client_for(customer(balance=5_000_00))
    assert _bid(rich, project, 2_000_00).status_code == 201
    assert outbox.drain() == {"batches": 1, "items": 1}
    assert Tender.objects.get(project=project, amount=2_000_00).status == "FROZEN"
    assert Project.objects.get(pk=project.pk).status == "FULL"
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
