"""Names and constants of the ledger benchmark: its databases, the seeded customers, the
amount of every movement, the one-call prototype's SQL."""

from __future__ import annotations

import itertools
from pathlib import Path

PLATFORM_DB, BANK_DB, PGBENCH_DB = "wanxin_bench", "wanxin_bench_bank", "wanxin_bench_pgbench"
SEED_PER_CUSTOMER = 100_000_000_00  # fen: 100 M yuan each, far more than a run can spend
AMOUNT = 100  # fen per movement
OK = "00000"
ONE_CALL_SQL = Path(__file__).resolve().parent.parent / "sql" / "freeze_in_one_call.sql"
ONE_CALL_FREEZE = "SELECT bench_freeze_in_one_call(%s, %s, %s, %s, %s, %s, %s)"
PHASE_NUMBERS = itertools.count(1)


def customer_no(wid: int, i: int) -> str:
    return f"bc{wid:02d}x{i:03d}"


def batch_customer_no(wid: int, i: int) -> str:
    return f"bb{wid:02d}x{i:03d}"
