"""Checks of the ledger guarantees (PROTOCOL §8), used by tests, benchmarks and the console."""

from __future__ import annotations

from django.db import connections
from django.db.models import Sum

from .models import Account

DB = "bank"


def total_balance() -> int:
    """Sum of available + frozen over every account: always zero."""
    totals = Account.objects.using(DB).aggregate(a=Sum("available"), f=Sum("frozen"))
    return (totals["a"] or 0) + (totals["f"] or 0)


def replay_mismatches() -> list[str]:
    """Accounts whose balance-change history does not replay to their balance."""
    with connections[DB].cursor() as cur:
        cur.execute(
            """
            SELECT a.account_no, a.available, a.frozen,
                   COALESCE(SUM(c.delta_available), 0), COALESCE(SUM(c.delta_frozen), 0),
                   (SELECT ROW(c2.available_after, c2.frozen_after)::text FROM bank_balancechange c2
                     WHERE c2.account_id = a.id ORDER BY c2.id DESC LIMIT 1)
              FROM bank_account a LEFT JOIN bank_balancechange c ON c.account_id = a.id
             GROUP BY a.id
            """
        )
        bad = []
        for account_no, available, frozen, sum_a, sum_f, last in cur.fetchall():
            if (available, frozen) != (sum_a, sum_f):
                bad.append(f"{account_no}: balance {available}/{frozen} but history sums to {sum_a}/{sum_f}")
            elif last is not None and last != f"({available},{frozen})":
                bad.append(f"{account_no}: last change says {last}, balance is ({available},{frozen})")
        # Each row's "after" must equal the running sum of deltas up to it.
        cur.execute(
            """
            SELECT account_id, id FROM (
              SELECT account_id, id, available_after, frozen_after,
                     SUM(delta_available) OVER w AS run_a, SUM(delta_frozen) OVER w AS run_f
                FROM bank_balancechange WINDOW w AS (PARTITION BY account_id ORDER BY id)
            ) t WHERE available_after <> run_a OR frozen_after <> run_f LIMIT 5
            """
        )
        bad += [f"account {a}: change {c} does not replay" for a, c in cur.fetchall()]
        return bad


def negative_customers() -> int:
    return Account.objects.using(DB).filter(kind=Account.Kind.CUSTOMER, available__lt=0).count()
