"""What the benchmark checks before and after the timed run: the platform's mirrors and
fund records against the bank, each allocation's freezes at the bank, the bank's own
invariants, and that every allocation of a phase was charged exactly once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from benchmarks.bank_loop import balances, bank_side

from .seed import BANK_DB, FEE

BANK_CHECK = """
from wanxin.bank import invariants
from wanxin.bank.models import BankRequest
print(json.dumps({
    "total_balance": invariants.total_balance(),
    "replay_mismatches": invariants.replay_mismatches(),
    "negative_customers": invariants.negative_customers(),
    "requests": BankRequest.objects.using("bank").count(),
    "requests_not_success": BankRequest.objects.using("bank").exclude(status="SUCCESS").count(),
}))
"""



def mirror_check() -> dict[str, Any]:
    """Mirrors (DepositoryAccount, each customer's last fund record) against the bank, and
    each allocation's frozen amounts against its freezes at the bank."""
    from django.db import connection, connections

    bank, mirror = balances("bank"), balances("default")
    with connection.cursor() as c:
        c.execute("SELECT DISTINCT ON (r.user_id) d.user_no, r.available_after, r.frozen_after"
                  " FROM funds_fundrecord r JOIN funds_depositoryaccount d ON d.user_id = r.user_id"
                  " ORDER BY r.user_id, r.id DESC")
        last = {no: (a, f) for no, a, f in c.fetchall()}
        c.execute("SELECT a.allocation_no, a.deposit_frozen + a.risk_fund_frozen, array_agg(b.request_no)"
                  " FROM allocation_allocation a JOIN allocation_bankrequest b ON b.allocation_id = a.id"
                  " AND b.status = 'SUCCESS' AND b.purpose IN ('DEPOSIT', 'RISK_FUND', 'TOP_UP', 'INCREASE')"
                  " GROUP BY a.id")
        frozen = c.fetchall()
    with connections["bank"].cursor() as c:
        c.execute("SELECT r.request_no, f.remaining FROM bank_freeze f JOIN bank_bankrequest r ON r.id = f.request_id"
                  " WHERE f.status = 'FROZEN'")
        at_bank = dict(c.fetchall())
    differ = [no for no, pair in mirror.items() if bank.get(no) != pair]
    records = [no for no, pair in mirror.items() if last.get(no, (0, 0)) != pair]
    freezes = [no for no, total, nos in frozen if total != sum(at_bank.get(r, 0) for r in nos)]
    return {"accounts": len(mirror), "mirror_differs_from_bank": len(differ), "samples": differ[:5],
            "last_fund_record_differs": len(records), "record_samples": records[:5],
            "allocation_frozen_differs_from_bank": len(freezes), "freeze_samples": freezes[:5],
            "ok": not differ and not records and not freezes}


def bank_check() -> dict[str, Any]:
    found = bank_side(BANK_CHECK, BANK_DB)
    found["ok"] = (found["total_balance"] == 0 and found["replay_mismatches"] == []
                   and found["negative_customers"] == 0 and found["requests_not_success"] == 0)
    return found


def phase_check(ids: tuple[int, int], *, day: dt.date, before: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Allocations ``ids`` (pk range, inclusive): each charged exactly once for ``day``, PAID
    with a successful transfer (the customer's bank balance down by the fee, fees_paid and a
    FEE_PAID record) or ARREARS (arrears and a FEE_ARREARS record, the balance untouched)."""
    from django.db import connection

    lo, hi = ids
    with connection.cursor() as c:
        c.execute(
            "SELECT a.allocation_no, u.user_no, a.fees_paid, a.arrears,"
            " count(f.id), count(f.id) FILTER (WHERE f.status = 'PAID'), count(f.id) FILTER (WHERE f.status = 'ARREARS'),"
            " (SELECT count(*) FROM allocation_bankrequest b WHERE b.allocation_id = a.id AND b.purpose = 'FEE'"
            "   AND b.status = 'SUCCESS'),"
            " (SELECT count(*) FROM allocation_fundrecord r WHERE r.allocation_id = a.id AND r.kind = 'FEE_PAID'),"
            " (SELECT count(*) FROM allocation_fundrecord r WHERE r.allocation_id = a.id AND r.kind = 'FEE_ARREARS')"
            " FROM allocation_allocation a JOIN accounts_user u ON u.id = a.customer_id"
            " LEFT JOIN allocation_feecharge f ON f.allocation_id = a.id AND f.date = %s"
            " WHERE a.id BETWEEN %s AND %s GROUP BY a.id, u.user_no", [day, lo, hi])
        rows = c.fetchall()
    after = balances("bank")
    wrong, paid, arrears = [], 0, 0
    for no, user_no, fees_paid, owed, charges, charged, in_arrears, transfers, paid_records, arrears_records in rows:
        moved = before[user_no][0] - after[user_no][0]
        if charges == 1 and charged == 1 and (fees_paid, owed, transfers, paid_records, arrears_records, moved) == (
                2 * FEE, 0, 2, 2, 0, FEE):
            paid += 1
        elif charges == 1 and in_arrears == 1 and (fees_paid, owed, transfers, paid_records, arrears_records,
                                                    moved) == (FEE, FEE, 1, 1, 1, 0):
            arrears += 1
        else:
            wrong.append(no)
    income = after["PLATFORM_INCOME"][0] - before["PLATFORM_INCOME"][0]
    ok = not wrong and income == paid * FEE and paid + arrears == len(rows)
    return {"allocations": len(rows), "paid": paid, "arrears": arrears, "wrong": len(wrong), "samples": wrong[:5],
            "platform_income_delta": income, "ok": ok}


def requests_by_status() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT service_name || ':' || status, count(*) FROM depository_depositoryrequest GROUP BY 1")
        return dict(c.fetchall())


