"""A bid over the API is one read of the loan and one transaction (issue 14): its risk check's
log row commits with the tender, or is written again on its own when the bid is refused after
the check. Nothing about the investor is cached: a change to their token, user or depository
account is seen by their next bid."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from wanxin.accounts.auth import token_issue, token_revoke
from wanxin.depository import outbox
from wanxin.depository.models import IdempotencyKey
from wanxin.funds.models import DepositoryAccount
from wanxin.lending.models import Project, Tender
from wanxin.lending.services import bids
from wanxin.risk.models import RuleCheck

from .conftest import collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])
# Token, idempotency key, loan; then the key's claim, the account under its lock, the live sum,
# the risk check (KYC, score bands, rules, its row), tender, freeze record, the loan's UPDATE and
# the key's object: 14 (18 in two transactions before issue 14).
MOST_STATEMENTS = 14


@pytest.fixture
def answered_at_once(live, settings):
    settings.DEPOSITORY_SEND_IN_BACKGROUND = True
    yield live
    assert outbox.flush(30)  # every freeze sent and answered


def _bid(token: str, project: Project, amount: int, key: str):
    return Client().post(f"/api/v1/loans/projects/{project.pk}/tenders", json.dumps({"amount": amount}),
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
                         HTTP_IDEMPOTENCY_KEY=key)


def _xmin(model, pk: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT xmin::text::bigint FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_a_bid_is_one_transaction_with_its_risk_check(answered_at_once, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=5_000_00)
    token = token_issue(user=investor)
    assert _bid(token, project, 100_00, "warm").status_code == 201  # the token's use noted: no write below
    with CaptureQueriesContext(connection) as statements:
        answer = _bid(token, project, 200_00, "one")
    assert answer.status_code == 201 and answer.json()["status"] == "PENDING"
    sql = [q["sql"] for q in statements.captured_queries]
    assert sql.count("COMMIT") == 1, "\n".join(sql)  # one transaction: the risk check's row commits with the bid
    assert len([s for s in sql if s not in ("BEGIN", "COMMIT")]) <= MOST_STATEMENTS, "\n".join(sql)
    tender = Tender.objects.get(pk=answer.json()["id"])
    check = RuleCheck.objects.filter(kind="BID").latest("id")
    assert (check.outcome, check.figures["investor_holding"], check.figures["amount"]) == ("PASS", 100_00, 200_00)
    # The check's row, the tender and the key were written by one transaction.
    key = IdempotencyKey.objects.get(user=investor, key="one")
    assert _xmin(RuleCheck, check.pk) == _xmin(Tender, tender.pk) == _xmin(IdempotencyKey, key.pk)


def test_a_bid_refused_after_its_risk_check_still_logs_it_once(answered_at_once, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=10_000_00)  # cap 5,000 yuan
    investor = customer(balance=10_000_00)
    token = token_issue(user=investor)
    assert _bid(token, project, 3_000_00, "first").status_code == 201
    checks = RuleCheck.objects.filter(kind="BID", customer=investor)
    assert checks.count() == 1
    answer = _bid(token, project, 2_100_00, "over-cap")  # 3,000 + 2,100 > 5,000: the bid rules refuse
    assert answer.status_code == 400 and answer.json()["code"] == "amount"
    assert [(c.outcome, c.figures["investor_holding"]) for c in checks.order_by("id")] == [
        ("PASS", 0), ("PASS", 3_000_00)]
    assert not IdempotencyKey.objects.filter(user=investor, key="over-cap").exists()  # rolled back with the bid
    assert Tender.objects.filter(investor=investor).count() == 1
    # Refused before the check (the account), nothing is logged, as before.
    DepositoryAccount.objects.filter(user=investor).update(status="FAILED")
    assert _bid(token, project, 100_00, "closed").json()["code"] == "no_account"
    assert checks.count() == 2


def test_an_error_after_the_commit_does_not_log_the_check_again(live, borrower, reviewer, monkeypatch):
    """The check's row committed with the bid; something failing after the COMMIT (an on-commit
    callback) must not write it a second time."""
    project = collecting(borrower, reviewer, amount=2_000_00)
    investor = customer(balance=5_000_00)

    def fails_after_commit(record):
        def fail():
            raise RuntimeError("simulated: an after-commit step failed")
        transaction.on_commit(fail)

    monkeypatch.setattr(outbox, "request_send_soon", fails_after_commit)
    with pytest.raises(RuntimeError, match="after-commit"):
        bids.tender_place(investor=investor, project_id=project.pk, amount=100_00)
    assert Tender.objects.filter(investor=investor).count() == 1  # committed
    assert RuleCheck.objects.filter(kind="BID", customer=investor).count() == 1
    assert outbox.drain()["items"] == 1  # the freeze the failed step left waiting
    assert Tender.objects.get(investor=investor).status == "FROZEN"


def test_the_next_bid_sees_a_change_to_the_account_user_or_token(answered_at_once, borrower, reviewer):
    project = collecting(borrower, reviewer, amount=10_000_00)
    investor = customer(balance=10_000_00)
    token = token_issue(user=investor)
    assert _bid(token, project, 100_00, "a").status_code == 201
    account = DepositoryAccount.objects.filter(user=investor)

    account.update(auth_list=["REPAYMENT"])  # investing de-authorised at the bank
    assert _bid(token, project, 100_00, "b").json()["code"] == "not_authorised"
    account.update(auth_list=["REPAYMENT", "TENDER"])
    assert _bid(token, project, 100_00, "c").status_code == 201
    account.update(status="PENDING")
    assert _bid(token, project, 100_00, "d").json()["code"] == "no_account"
    account.update(status="OPEN")
    assert _bid(token, project, 100_00, "e").status_code == 201

    type(investor).objects.filter(pk=investor.pk).update(is_active=False)
    assert _bid(token, project, 100_00, "f").status_code == 401
    type(investor).objects.filter(pk=investor.pk).update(is_active=True)
    assert _bid(token, project, 100_00, "g").status_code == 201
    type(investor).objects.filter(pk=investor.pk).update(is_operator=True)  # not a customer
    assert _bid(token, project, 100_00, "h").status_code == 401
    type(investor).objects.filter(pk=investor.pk).update(is_operator=False)
    assert token_revoke(key=token)
    assert _bid(token, project, 100_00, "i").status_code == 401
    assert Tender.objects.filter(investor=investor).count() == 4  # a, c, e, g
