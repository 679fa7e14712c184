"""What the automatic repayment benchmark seeds and aims at."""

from __future__ import annotations

from decimal import Decimal

PLATFORM_DB, BANK_DB, PGBENCH_DB = "wanxin_autorepay", "wanxin_autorepay_bank", "wanxin_autorepay_pgbench"
LOAN = 12_000_00  # fen
MONTHS, METHOD = 12, "EQUAL_INSTALLMENT"
BORROWER_RATE, INVESTOR_RATE, FEE_RATE = Decimal("0.120000"), Decimal("0.100000"), Decimal("0.020000")
TENDERS = (5_000_00, 4_000_00, 3_000_00)  # per loan, from three different investors
LOANS_PER_INVESTOR = 10
TARGET = 0.25  # periods/s >= 0.25 x pgbench tps (issue 14)
