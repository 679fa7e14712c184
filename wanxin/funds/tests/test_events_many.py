"""``fund_events_apply_many``: the same records and balances as ``fund_events_apply`` item by
item, in three statements, and the same idempotency by request_no."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test.utils import CaptureQueriesContext

from wanxin.funds import services
from wanxin.funds.domain import MoneyEvent
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.funds.services import FundEvents, fund_events_apply, fund_events_apply_many

from .conftest import make_customer

pytestmark = pytest.mark.django_db(databases=["default"])


def account(available: int = 0, frozen: int = 0):
    user = make_customer()
    DepositoryAccount.objects.create(user=user, user_no=user.user_no, status="OPEN", available=available,
                                     frozen=frozen)
    return user


def rows(user) -> list[tuple[str, int, int, int, str]]:
    return list(FundRecord.objects.filter(user=user).order_by("id")
                .values_list("type", "amount", "available_after", "frozen_after", "request_no"))


def mirror(user) -> tuple[int, int]:
    return DepositoryAccount.objects.values_list("available", "frozen").get(user=user)


def test_many_equals_one_by_one():
    a, b, c = account(1_000, 500), account(0), account(10_000, 600)
    a2, b2, c2 = account(1_000, 500), account(0), account(10_000, 600)

    def items(x, y, z, tag):
        return [
            FundEvents(x.user_no, f"{tag}-1", [MoneyEvent("RECEIVABLE", 300, 300)]),
            FundEvents(y.user_no, f"{tag}-2", [MoneyEvent("RECEIVABLE", 200, 200)]),
            FundEvents("NOBODY", f"{tag}-3", [MoneyEvent("RECEIVABLE", 5, 5)]),
            # the same account twice: the second item's balances follow the first's
            FundEvents(x.user_no, f"{tag}-4", [MoneyEvent("UNFREEZE", 500, 500, -500),
                                               MoneyEvent("REPAYMENT", -100, -100)]),
            FundEvents(z.user_no, f"{tag}-5", [MoneyEvent("REPAYMENT", -500, 0, -500),
                                               MoneyEvent("FREEZE", -1, -1, 1)]),
        ]

    with transaction.atomic(), CaptureQueriesContext(transaction.get_connection()) as captured:
        made = fund_events_apply_many(items(a, b, c, "M"))
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 3
    assert len(made) == 6
    with transaction.atomic():
        for item in items(a2, b2, c2, "M"):
            fund_events_apply(user_no={a.user_no: a2.user_no, b.user_no: b2.user_no, c.user_no: c2.user_no}
                              .get(item.user_no, item.user_no), request_no=item.request_no + "x",
                              events=item.events)
    for one, two in ((a, a2), (b, b2), (c, c2)):
        assert [r[:4] for r in rows(one)] == [r[:4] for r in rows(two)]
        assert mirror(one) == mirror(two)
    assert mirror(a) == (1_000 + 300 + 500 - 100, 0)
    assert rows(a)[-1][2:4] == mirror(a)
    assert mirror(c) == (9_999, 101)


def test_a_replay_changes_nothing_and_the_rest_goes_on():
    a, b = account(1_000), account(2_000)
    with transaction.atomic():
        fund_events_apply_many([FundEvents(a.user_no, "R-1", [MoneyEvent("RECEIVABLE", 100, 100)])])
    with transaction.atomic():
        made = fund_events_apply_many([
            FundEvents(a.user_no, "R-1", [MoneyEvent("RECEIVABLE", 100, 100)]),  # replay
            FundEvents(b.user_no, "R-2", [MoneyEvent("RECEIVABLE", 50, 50)]),
        ])
    assert [r.request_no for r in made] == ["R-2"]
    assert mirror(a) == (1_100, 0) and rows(a) == [("RECEIVABLE", 100, 1_100, 0, "R-1")]
    assert mirror(b) == (2_050, 0) and rows(b) == [("RECEIVABLE", 50, 2_050, 0, "R-2")]


def test_cached_balances_are_dropped_at_commit_in_one_call(monkeypatch, django_capture_on_commit_callbacks):
    a, b = account(), account()
    keys = [services.balance_cache_key(u.user_no) for u in (a, b)]
    for key in keys:
        cache.set(key, (1, 2, "2026-01-01T00:00:00+00:00"), 60)
    calls = []
    real = cache.delete_many
    monkeypatch.setattr(cache, "delete_many", lambda k: (calls.append(sorted(k)), real(k))[1])
    with django_capture_on_commit_callbacks(execute=True):
        fund_events_apply_many([FundEvents(a.user_no, "C-1", [MoneyEvent("RECEIVABLE", 1, 1)]),
                                FundEvents(b.user_no, "C-2", [MoneyEvent("RECEIVABLE", 1, 1)])])
        fund_events_apply(user_no=a.user_no, request_no="C-3", events=[MoneyEvent("RECEIVABLE", 1, 1)])
        assert cache.get(keys[0]) is not None  # until the commit
    assert len(calls) == 1 and set(keys) <= set(calls[0])  # (+ keys of rolled-back test transactions)
    assert cache.get(keys[0]) is None and cache.get(keys[1]) is None
