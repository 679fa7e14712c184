"""The seeded history: one customer's fund records over two years (and other customers'
neighbours), bulk-loaded with COPY."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from benchmarks.common import (
    migrate,
)

# (type, share of events, amount range in fen, sign); withdrawals bring their commission.
MIX = [
    ("RECHARGE", 0.16, (10_000, 5_000_000), 1),
    ("WITHDRAW", 0.08, (10_000, 2_000_000), -1),
    ("FREEZE", 0.18, (5_000, 1_000_000), -1),
    ("UNFREEZE", 0.04, (5_000, 1_000_000), 1),
    ("TENDER", 0.14, (5_000, 1_000_000), -1),
    ("RECEIVABLE", 0.24, (100, 200_000), 1),
    ("ALLOCATION_FEE", 0.04, (100, 50_000), -1),
    ("REPAYMENT", 0.04, (1_000, 300_000), -1),
]


def generate(user_id: int, count: int, *, days: int, prefix: str, seed: int) -> list[tuple]:
    """``count`` records for one customer over the last ``days`` days, with a running balance."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=days)
    span = (now - start).total_seconds()
    times = sorted(start + dt.timedelta(seconds=rng.random() * span) for _ in range(count))
    kinds = [m[0] for m in MIX]
    weights = [m[1] for m in MIX]
    spec = {m[0]: m for m in MIX}
    rows: list[tuple] = []
    available, frozen = 0, 0
    index = 0
    while len(rows) < count:
        kind = rng.choices(kinds, weights)[0]
        low, high, sign = spec[kind][2][0], spec[kind][2][1], spec[kind][3]
        amount = rng.randint(low, high)
        at = times[len(rows)]
        request_no = f"{prefix}{index:08d}"
        index += 1
        if kind == "WITHDRAW" and len(rows) + 2 <= count:
            commission = max(200, amount // 1000)
            available -= amount
            rows.append((user_id, "WITHDRAW", -(amount - commission), available + commission, frozen, request_no, at))
            rows.append((user_id, "COMMISSION", -commission, available, frozen, request_no, at))
            continue
        if kind == "WITHDRAW":
            kind, sign = "RECHARGE", 1
        if kind == "FREEZE":
            available, frozen = available - amount, frozen + amount
        elif kind == "UNFREEZE":
            available, frozen = available + amount, frozen - amount
        elif kind == "TENDER":
            frozen -= amount
        else:
            available += sign * amount
        rows.append((user_id, kind, sign * amount, available, frozen, request_no, at))
    return rows


def copy_records(rows: list[tuple]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor: COPY is the fastest bulk load
        with raw.copy("COPY funds_fundrecord (user_id, type, amount, available_after, frozen_after, request_no, "
                      "created_at, remark) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, ""))


def migrate_and_seed(records: int, other_rows: int, days: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from wanxin.accounts.auth import token_issue
    from wanxin.fields import blind_index
    from wanxin.funds.models import DepositoryAccount

    migrate(cache_table=True)
    User = get_user_model()
    started = time.monotonic()
    users = []
    others = max(1, other_rows // 50_000) if other_rows else 0
    for n in range(1 + others):
        user = User.objects.create_user(username=f"bench{n}", password=None, mobile=f"1390000{n:04d}",
                                        role="BOTH", user_no=f"BENCH{n:04d}")
        id_number = f"11010119900101{n:03d}X"
        DepositoryAccount.objects.create(
            user=user, user_no=user.user_no, status="OPEN", full_name="Bench Customer", id_number=id_number,
            id_number_index=blind_index(id_number), card_number="6217000000000000004", bank_code="ICBC",
            mobile=user.mobile, role="BOTH")
        users.append(user)
    copy_records(generate(users[0].pk, records, days=days, prefix="B0-", seed=1))
    for n, user in enumerate(users[1:], start=1):
        copy_records(generate(user.pk, other_rows // others, days=days, prefix=f"B{n}-", seed=n + 1))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE funds_fundrecord")
        cursor.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('funds_fundrecord')) "
                       "FROM funds_fundrecord")
        total, size = cursor.fetchone()
    return {
        "customer_records": records,
        "other_customers": others,
        "other_records": other_rows // others * others if others else 0,
        "table_rows": total,
        "table_size_with_indexes": size,
        "days": days,
        "seconds": round(time.monotonic() - started, 1),
        "token": token_issue(user=users[0], name="benchmark"),
        "user_id": users[0].pk,
    }
