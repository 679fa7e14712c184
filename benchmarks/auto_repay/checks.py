"""What the benchmark checks after each phase and at the end: every period repaid once and
every fen where it belongs, the mirrors equal to the bank, the bank's own invariants."""

from __future__ import annotations

import datetime as dt
from typing import Any

from benchmarks.bank_loop import balances, bank_side

from .config import BANK_DB

BANK_CHECK = """
from wanxin.bank import invariants
from wanxin.bank.models import BankRequest, Freeze, Notification
print(json.dumps({
    "total_balance": invariants.total_balance(),
    "replay_mismatches": invariants.replay_mismatches(),
    "negative_customers": invariants.negative_customers(),
    "requests": BankRequest.objects.using("bank").count(),
    "requests_not_success": BankRequest.objects.using("bank").exclude(status="SUCCESS").count(),
    "frozen_freezes": Freeze.objects.using("bank").filter(status="FROZEN").count(),
    "notifications": Notification.objects.using("bank").count(),
}))
"""


def bank_check() -> dict[str, Any]:
    found = bank_side(BANK_CHECK, BANK_DB)
    found["ok"] = (found["total_balance"] == 0 and found["replay_mismatches"] == []
                   and found["negative_customers"] == 0 and found["frozen_freezes"] == 0
                   and found["requests_not_success"] == 0)
    return found


def phase_check(project_nos: list[str] | None, *, due: dt.date, before: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Every period of the phase REPAID once, receivables RECEIVED, each investor credited
    exactly their receivables, the borrower debited the period, PLATFORM_INCOME the shares."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT count(*), count(*) FILTER (WHERE p.status = 'REPAID'),"
            " count(*) FILTER (WHERE r.status = 'DONE' AND r.auto), count(DISTINCT r.id),"
            " COALESCE(sum(p.platform_share), 0), count(*) FILTER (WHERE p.paid_amount = p.principal + p.interest)"
            " FROM repayments_repaymentplan p LEFT JOIN repayments_repayment r ON r.id = p.repayment_id"
            " WHERE p.number = 1 AND p.due_date = %s", [due])
        periods, repaid, done_auto, repayments, shares, paid_exact = c.fetchone()
        shares = int(shares)
        c.execute("SELECT count(*), count(*) FILTER (WHERE r.status = 'RECEIVED'"
                  " AND r.received_amount = r.principal + r.interest)"
                  " FROM repayments_receivableplan r JOIN repayments_repaymentplan p ON p.id = r.plan_id"
                  " WHERE p.number = 1 AND p.due_date = %s", [due])
        receivables, received = c.fetchone()
        c.execute("SELECT d.user_no, sum(r.principal + r.interest) FROM repayments_receivableplan r"
                  " JOIN repayments_repaymentplan p ON p.id = r.plan_id"
                  " JOIN funds_depositoryaccount d ON d.user_id = r.investor_id"
                  " WHERE p.number = 1 AND p.due_date = %s GROUP BY d.user_no", [due])
        expected = dict(c.fetchall())
        c.execute("SELECT d.user_no, p.principal + p.interest FROM repayments_repaymentplan p"
                  " JOIN funds_depositoryaccount d ON d.user_id = p.borrower_id WHERE p.number = 1 AND p.due_date = %s",
                  [due])
        owed = dict(c.fetchall())
        c.execute("SELECT count(*) FROM repayments_repayment WHERE status <> 'DONE'")
        not_done = c.fetchone()[0]
    after = balances("bank")
    investors_wrong = [no for no, amount in expected.items()
                       if after[no] != (before[no][0] + amount, before[no][1])]
    borrowers_wrong = [no for no, amount in owed.items() if after[no] != (before[no][0] - amount, before[no][1])]
    income = after["PLATFORM_INCOME"][0] - before["PLATFORM_INCOME"][0]
    ok = (periods == repaid == done_auto == repayments == paid_exact and receivables == received
          and not investors_wrong and not borrowers_wrong and income == shares and not_done == 0)
    return {"periods": periods, "repaid": repaid, "repayments_done_auto": done_auto, "receivables": receivables,
            "received": received, "investors_credited": len(expected), "investors_wrong": len(investors_wrong),
            "borrowers_wrong": len(borrowers_wrong), "platform_income_delta": income, "platform_shares": shares,
            "repayments_not_done": not_done, "ok": ok}


def pending_requests() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT service_name || ':' || status, count(*) FROM depository_depositoryrequest GROUP BY 1")
        return dict(c.fetchall())
