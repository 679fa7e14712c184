"""The daily allocation fee run over N DAILY allocations in progress, bank in the loop.

    python -m benchmarks.allocation_fees [--allocations 10000] [--workers 8] [--sequential 300]
                                         [--pgbench-seconds 20] [--output …]

Issue 12: "the daily fee run over 10,000 DAILY allocations in progress with the bank in the
loop (real HTTP, production server): allocations/s; target >= 0.1 x pgbench TPC-B tps". On
the PostgreSQL at 127.0.0.1:5432 it drops and recreates wanxin_allocfees (platform) and
wanxin_allocfees_bank (bank), migrates both and seeds, set-based (INSERT … SELECT and
bulk inserts on both sides), the state paying leaves: per customer a depository account
that authorised ALLOCATION and ALLOCATION_FEE; at the bank its recharge, the deposit and
risk-fund freezes (USER_PRE_TRANSACTION ALLOCATION) and the first fee (TRANSFER
ALLOCATION_FEE to PLATFORM_INCOME) with their transfers and balance history; on the
platform the customer, the mirror, its fund records, and one DAILY allocation IN_PROGRESS
(¥10,000 deposit x 3, fee ¥36.00 a trading day) that started the trading day before the
run's day, with its bank requests and fund dynamics. Every tenth customer holds less than
a fee after paying, so its charge becomes arrears.

The bank runs as production does (gunicorn gthread 2 x 8, WANXIN_ROLE=bank, own
database); this process is the platform and runs ``allocation.services.fees_charge``: per
allocation one transaction under its row lock, one TRANSFER over HTTP after the commit and
its result handler. Two timed phases over disjoint allocations (a sequential sample with
``workers=1``, then the rest with ``--workers`` threads), each from the job's start to its
return (every transfer is final by then: each is sent synchronously after its commit).

Afterwards: every allocation has exactly one FeeCharge for the day, PAID with a successful
transfer or ARREARS with its arrears recorded; each customer's bank balance moved by
exactly its fee (or not at all); PLATFORM_INCOME by the sum of the paid fees; fees_paid and
the fund records agree; the platform's mirrors equal the bank's balances; the bank's
accounts sum to zero and replay (``wanxin.bank.invariants``). pgbench TPC-B runs in the
same run. Writes benchmarks/results/allocation_fees.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.common import (
    RESULTS,
    ROOT,
    StatementCounter,
    configure_environment,
    cpu_busy_seconds,
    drop_database,
    free_port,
    machine_facts,
    pg_url,
    pgbench_reference,
    recreate_databases,
    result_head,
    sample_backends,
    server_facts,
    start_gunicorn,
    stop_server,
    tree_cpu_seconds,
)

PLATFORM_DB, BANK_DB = "wanxin_allocfees", "wanxin_allocfees_bank"
PGBENCH_DB = "wanxin_allocfees_pgbench"
DEPOSIT, MULTIPLE, DURATION = 1_000_000, 3, 20  # fen, x, trading days
RATE, RISK_FUND_RATE = Decimal("0.001200"), Decimal("0.010000")  # the seeded "daily" product at 3x
ALLOCATED = DEPOSIT * MULTIPLE
FEE = 3_600  # rhu(3,000,000 x 0.0012)
RISK_FUND = 30_000  # rhu(3,000,000 x 0.01)
PAID = DEPOSIT + RISK_FUND + FEE
SPARE, SHORT = 66_400, FEE - 1  # available after paying: enough for the fee; not enough (every 10th)
TARGET = 0.1  # allocations/s >= 0.1 x pgbench tps


# -- environment ----------------------------------------------------------------------------


def bank_environment(port: int) -> dict[str, str]:
    return {"WANXIN_ROLE": "bank", "DATABASE_URL": pg_url(BANK_DB), "BANK_DATABASE_URL": pg_url(BANK_DB),
            "PORT": str(port), "BANK_NOTIFY_URL": "http://127.0.0.1:9/api/v1/depository/notify"}


def bank_side(code: str) -> Any:
    """Run ``code`` in a bank-role Django process; it prints one JSON value."""
    env = {**os.environ, **bank_environment(0)}
    done = subprocess.run([sys.executable, "-c", "import django, json; django.setup()\n" + code],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"bank-side step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None


BANK_MIGRATE = """
from django.core.management import call_command
call_command("migrate", database="default", interactive=False, verbosity=0)
call_command("migrate", database="bank", interactive=False, verbosity=0)
"""

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


# -- seeding --------------------------------------------------------------------------------


def trading_day_on_or_after(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def previous_trading_day(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def seed(n: int, *, start: dt.date) -> dict[str, Any]:
    """Both databases as paying and approval leave them for ``n`` customers (no holidays)."""
    from django.core.management import call_command
    from django.db import connection, connections

    from wanxin.allocation import domain

    started = time.monotonic()
    call_command("migrate", database="default", interactive=False, verbosity=0)
    bank_side(BANK_MIGRATE)
    if domain.fee_per_charge(ALLOCATED, RATE) != FEE or domain.risk_fund(ALLOCATED, RISK_FUND_RATE) != RISK_FUND:
        raise SystemExit("the benchmark's fee or risk fund no longer matches the domain's")
    for db in ("default", "bank"):
        with connections[db].cursor() as c:
            c.execute("CREATE TEMP TABLE s_c AS SELECT i, 'AF' || lpad(i::text, 8, '0') AS user_no,"
                      " CASE WHEN i %% 10 = 0 THEN %s ELSE %s END::bigint AS recharged"
                      " FROM generate_series(0, %s - 1) i", [PAID + SHORT, PAID + SPARE, n])
    with connection.cursor() as c:
        seed_platform(c, start=start)
    with connections["bank"].cursor() as c:
        seed_bank(c)
    for db in ("default", "bank"):
        with connections[db].cursor() as c:
            c.execute("DROP TABLE s_c")
            c.execute("VACUUM ANALYZE")
    return {"allocations": n, "short_of_a_fee": (n + 9) // 10, "deposit_fen": DEPOSIT, "multiple": MULTIPLE,
            "fee_fen": FEE, "risk_fund_fen": RISK_FUND, "duration_trading_days": DURATION, "start": str(start),
            "seconds": round(time.monotonic() - started, 1)}


def seed_platform(c, *, start: dt.date) -> None:
    from wanxin.allocation import domain
    from wanxin.allocation.models import Product

    product = Product.objects.get(code="daily")
    lines = domain.lines(deposit=DEPOSIT, allocated=ALLOCATED, warning_pct=product.warning_pct,
                         liquidation_pct=product.liquidation_pct)
    warning, liquidation = lines.warning_line, lines.liquidation_line
    end = domain.end_date("DAILY", start, DURATION, domain.TradingCalendar([]))
    approved = dt.datetime.combine(start, dt.time(9, 30), tzinfo=domain.BEIJING)
    c.execute(
        "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
        " is_active, date_joined, mobile, user_no, role, is_operator)"
        " SELECT '!', false, 'af' || i, '', '', '', false, true, now() - interval '30 days',"
        " '133' || lpad(i::text, 8, '0'), user_no, 'INVESTOR', false FROM s_c")
    c.execute("CREATE TEMP TABLE s_u AS SELECT c.i, c.user_no, c.recharged, u.id FROM s_c c"
              " JOIN accounts_user u USING (user_no)")
    c.execute(
        "INSERT INTO funds_depositoryaccount (user_id, user_no, status, full_name, id_number, id_number_index,"
        " card_number, bank_code, mobile, role, requested_auth, auth_list, request_no, fail_reason, attempts,"
        " available, frozen, opened_at, created_at, updated_at)"
        " SELECT id, user_no, 'OPEN', '', '', '', '', 'ICBC', '', '', '[\"ALLOCATION\", \"ALLOCATION_FEE\"]',"
        " '[\"ALLOCATION\", \"ALLOCATION_FEE\"]', 'AFPR' || i, '', 1, recharged - %s, %s,"
        " now() - interval '30 days', now() - interval '30 days', now() FROM s_u",
        [PAID, DEPOSIT + RISK_FUND])
    # The customer's fund records (running balances), as the result handlers write them.
    c.execute(
        "INSERT INTO funds_fundrecord (user_id, type, amount, available_after, frozen_after, request_no, remark,"
        " created_at)"
        " SELECT id, t.type, t.amount, t.a, t.f, t.prefix || i, t.remark, now() - interval '2 days' + t.k * interval '1 s'"
        " FROM s_u, LATERAL (VALUES"
        "  (0, 'RECHARGE', recharged, recharged, 0::bigint, 'AFRC', ''),"
        "  (1, 'FREEZE', -%(d)s, recharged - %(d)s, %(d)s, 'AFFD', 'allocation deposit'),"
        "  (2, 'ALLOCATION_FEE', -%(fee)s, recharged - %(d)s - %(fee)s, %(d)s, 'AFTF', 'allocation fee'),"
        "  (3, 'FREEZE', -%(rf)s, recharged - %(paid)s, %(d)s + %(rf)s, 'AFFR', 'allocation risk fund')"
        " ) AS t(k, type, amount, a, f, prefix, remark) ORDER BY i, t.k",
        {"d": DEPOSIT, "fee": FEE, "rf": RISK_FUND, "paid": PAID})
    c.execute(
        "INSERT INTO allocation_allocation (allocation_no, customer_id, product_id, status, product_type, multiple,"
        " rate, duration, risk_fund_rate, warning_pct, liquidation_pct, deposit, allocated, risk_fund, fee,"
        " warning_line, liquidation_line, deposit_frozen, risk_fund_frozen, arrears, debt, profit_withdrawn,"
        " fees_paid, submit_token, start_date, end_date, auto_renew, pays_risk_fund, approved_at, created_at,"
        " updated_at)"
        " SELECT 'AFA' || i, id, %(product)s, 'IN_PROGRESS', 'DAILY', %(m)s, %(rate)s, %(dur)s, %(rfr)s, %(wp)s,"
        " %(lp)s, %(d)s, %(alloc)s, %(rf)s, %(fee)s, %(warn)s, %(liq)s, %(d)s, %(rf)s, 0, 0, 0, %(fee)s, '',"
        " %(start)s, %(end)s, false, true, %(approved)s, now() - interval '3 days', now() FROM s_u ORDER BY i",
        {"product": product.pk, "m": MULTIPLE, "rate": RATE, "dur": DURATION, "rfr": RISK_FUND_RATE,
         "wp": product.warning_pct, "lp": product.liquidation_pct, "d": DEPOSIT, "alloc": ALLOCATED,
         "rf": RISK_FUND, "fee": FEE, "warn": warning, "liq": liquidation, "start": start, "end": end,
         "approved": approved})
    c.execute("CREATE TEMP TABLE s_a AS SELECT substr(allocation_no, 4)::int AS i, id FROM allocation_allocation")
    c.execute(
        "INSERT INTO allocation_bankrequest (allocation_id, purpose, request_no, pre_request_no, amount, status,"
        " created_at)"
        " SELECT a.id, t.purpose, t.prefix || a.i, '', t.amount, 'SUCCESS', now() - interval '2 days'"
        " FROM s_a a, (VALUES ('DEPOSIT', 'AFFD', %s::bigint), ('FEE', 'AFTF', %s), ('RISK_FUND', 'AFFR', %s))"
        " AS t(purpose, prefix, amount) ORDER BY a.i", [DEPOSIT, FEE, RISK_FUND])
    c.execute(
        "INSERT INTO allocation_fundrecord (allocation_id, kind, amount, request_no, status_from, status_to, note,"
        " created_at)"
        " SELECT a.id, t.kind, t.amount, CASE WHEN t.prefix = '' THEN '' ELSE t.prefix || a.i END, t.s0, t.s1, '',"
        "  now() - interval '2 days' + t.k * interval '1 s'"
        " FROM s_a a, (VALUES (0, 'DEPOSIT_FROZEN', %(d)s::bigint, 'AFFD', '', ''),"
        "  (1, 'FEE_PAID', -%(fee)s, 'AFTF', '', ''), (2, 'RISK_FUND_FROZEN', %(rf)s, 'AFFR', '', ''),"
        "  (3, 'STATUS', 0, '', 'APPLIED', 'PAID'), (4, 'STATUS', 0, '', 'PAID', 'APPROVED'),"
        "  (5, 'STATUS', 0, '', 'APPROVED', 'IN_PROGRESS')) AS t(k, kind, amount, prefix, s0, s1)"
        " ORDER BY a.i, t.k", {"d": DEPOSIT, "fee": FEE, "rf": RISK_FUND})
    c.execute("DROP TABLE s_u, s_a")


def seed_bank(c) -> None:
    """Accounts with cards; per customer RECHARGE, the deposit freeze, the first fee and the
    risk-fund freeze (ids in that order), their freezes, transfers and balance history."""
    from django.conf import settings

    from wanxin.protocol import codes

    p = settings.PLATFORM_NO
    card = int(os.environ.get("BANK_SIMULATED_CARD_BALANCE", str(10_000_000_00)))
    c.execute(
        "INSERT INTO bank_account (platform_no, account_no, kind, status, available, frozen, full_name, id_number,"
        " mobile, role, auth_list, trade_password, failed_password_count, opened_at)"
        " VALUES (%s, 'CARD_NETWORK', 'CARD_NETWORK', 'OPEN', 0, 0, '', '', '', '', '[]', '', 0, now()),"
        " (%s, 'PLATFORM_INCOME', 'PLATFORM_INCOME', 'OPEN', 0, 0, '', '', '', '', '[]', '', 0, now())", [p, p])
    c.execute(
        "INSERT INTO bank_account (platform_no, account_no, kind, status, available, frozen, full_name, id_number,"
        " mobile, role, auth_list, trade_password, failed_password_count, opened_at)"
        " SELECT %s, user_no, 'CUSTOMER', 'OPEN', 0, 0, 'Trader ' || i, '11010119700' || lpad(i::text, 7, '0'),"
        "  '133' || lpad(i::text, 8, '0'), 'INVESTOR', '[\"ALLOCATION\", \"ALLOCATION_FEE\"]'::jsonb, '!', 0,"
        "  now() - interval '30 days' FROM s_c ORDER BY i", [p])
    c.execute("CREATE TEMP TABLE s_acct AS SELECT id, account_no FROM bank_account")
    c.execute("CREATE UNIQUE INDEX ON s_acct (account_no)")
    c.execute("INSERT INTO bank_bankcard (account_id, bank_code, card_number, balance)"
              " SELECT a.id, 'ICBC', '622203' || lpad(a.id::text, 13, '0'), %s - s.recharged"
              " FROM s_c s JOIN s_acct a ON a.account_no = s.user_no", [card])
    c.execute(
        "CREATE TEMP TABLE s_req AS SELECT s.i * 4 + t.k + 1 AS id, t.prefix || s.i AS request_no, t.service,"
        "  t.biz, s.user_no, t.counterparty, CASE WHEN t.k = 0 THEN s.recharged ELSE t.amount END AS amount,"
        "  a.id AS account_id, t.k, now() - interval '2 days' + t.k * interval '1 s' AS at"
        " FROM s_c s JOIN s_acct a ON a.account_no = s.user_no, (VALUES"
        "  (0, 'AFRC', 'RECHARGE', 'RECHARGE', 'CARD', 0::bigint),"
        "  (1, 'AFFD', 'USER_PRE_TRANSACTION', 'ALLOCATION', '', %s),"
        "  (2, 'AFTF', 'TRANSFER', 'ALLOCATION_FEE', 'PLATFORM_INCOME', %s),"
        "  (3, 'AFFR', 'USER_PRE_TRANSACTION', 'ALLOCATION', '', %s)) AS t(k, prefix, service, biz, counterparty, amount)",
        [DEPOSIT, FEE, RISK_FUND])
    c.execute(
        "INSERT INTO bank_bankrequest (id, platform_no, request_no, service_name, digest, req_data, status, resp_code,"
        " response, biz_type, user_no, counterparty, amount, commission, moved_money, created_at, finished_at)"
        " SELECT r.id, %(p)s, r.request_no, r.service, encode(sha256(convert_to(r.data::text, 'UTF8')), 'hex'),"
        "  r.data || jsonb_build_object('requestNo', r.request_no, 'timestamp', (extract(epoch FROM r.at) * 1000)::bigint),"
        "  'SUCCESS', '00000', jsonb_build_object('requestNo', r.request_no, 'respCode', '00000', 'respMsg', %(ok)s,"
        "   'status', 'SUCCESS'), r.biz, r.user_no, r.counterparty, r.amount, NULL, true, r.at, r.at"
        " FROM (SELECT *, CASE service"
        "  WHEN 'RECHARGE' THEN jsonb_build_object('userNo', user_no, 'amount', amount)"
        "  WHEN 'TRANSFER' THEN jsonb_build_object('bizType', biz, 'payer', user_no, 'payee', counterparty,"
        "   'amount', amount)"
        "  ELSE jsonb_build_object('userNo', user_no, 'bizType', biz, 'amount', amount) END AS data FROM s_req) r"
        " ORDER BY r.id", {"p": p, "ok": codes.MESSAGES[codes.SUCCESS]})
    c.execute("SELECT setval(pg_get_serial_sequence('bank_bankrequest', 'id'), (SELECT max(id) FROM bank_bankrequest))")
    c.execute("INSERT INTO bank_freeze (request_id, account_id, biz_type, project_no, amount, remaining, status,"
              " created_at) SELECT id, account_id, 'ALLOCATION', '', amount, amount, 'FROZEN', at FROM s_req"
              " WHERE service = 'USER_PRE_TRANSACTION' ORDER BY id")
    c.execute(
        "INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at)"
        " SELECT r.id, CASE WHEN r.k = 0 THEN card.id ELSE r.account_id END,"
        "  CASE WHEN r.k = 0 THEN r.account_id ELSE inc.id END, r.amount, NULL, r.at"
        " FROM s_req r, s_acct card, s_acct inc WHERE r.k IN (0, 2) AND card.account_no = 'CARD_NETWORK'"
        " AND inc.account_no = 'PLATFORM_INCOME' ORDER BY r.id")
    # Per request: the customer's change first, then the shared account's (as the pipeline).
    c.execute(
        "CREATE TEMP TABLE s_change AS"
        " SELECT r.id AS request_id, 0 AS o, r.account_id,"
        "  CASE WHEN r.k = 0 THEN r.amount ELSE -r.amount END AS d_a,"
        "  CASE WHEN r.k IN (1, 3) THEN r.amount ELSE 0 END AS d_f, r.at FROM s_req r"
        " UNION ALL SELECT r.id, 1, CASE WHEN r.k = 0 THEN card.id ELSE inc.id END,"
        "  CASE WHEN r.k = 0 THEN -r.amount ELSE r.amount END, 0, r.at"
        " FROM s_req r, s_acct card, s_acct inc WHERE r.k IN (0, 2) AND card.account_no = 'CARD_NETWORK'"
        " AND inc.account_no = 'PLATFORM_INCOME'")
    c.execute(
        "INSERT INTO bank_balancechange (id, account_id, request_id, delta_available, delta_frozen, available_after,"
        " frozen_after, created_at)"
        " SELECT row_number() OVER o, account_id, request_id, d_a, d_f, sum(d_a) OVER w, sum(d_f) OVER w, at"
        " FROM s_change WINDOW o AS (ORDER BY request_id, o), w AS (PARTITION BY account_id ORDER BY request_id, o)"
        " ORDER BY request_id, o")
    c.execute("SELECT setval(pg_get_serial_sequence('bank_balancechange', 'id'), (SELECT max(id) FROM bank_balancechange))")
    c.execute("UPDATE bank_account a SET available = s.a, frozen = s.f FROM (SELECT account_id,"
              " sum(delta_available) AS a, sum(delta_frozen) AS f FROM bank_balancechange GROUP BY account_id) s"
              " WHERE a.id = s.account_id")
    c.execute("DROP TABLE s_acct, s_req, s_change")


# -- checks ---------------------------------------------------------------------------------


def balances(db: str) -> dict[str, tuple[int, int]]:
    from django.db import connections

    with connections[db].cursor() as c:
        if db == "bank":
            c.execute("SELECT account_no, available, frozen FROM bank_account")
        else:
            c.execute("SELECT user_no, available, frozen FROM funds_depositoryaccount")
        return {no: (a, f) for no, a, f in c.fetchall()}


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
    found = bank_side(BANK_CHECK)
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


# -- the timed phases -----------------------------------------------------------------------


def run_phase(name: str, *, ids: tuple[int, int], day: dt.date, workers: int, server: Any) -> dict[str, Any]:
    """Time ``fees_charge`` over the running allocations (the caller holds the others out
    with ``hold``), then check allocations ``ids``."""
    from django.db import connection, connections

    from wanxin.allocation import domain, services

    before = balances("bank")
    now = dt.datetime.combine(day, dt.time(16), tzinfo=domain.BEIJING)
    with connection.cursor() as c:  # warm the connection so the job doesn't pay for opening it
        c.execute("SELECT 1")
    self_cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    bank_cpu0 = tree_cpu_seconds(server.pid)
    machine0 = cpu_busy_seconds()
    stop, states = threading.Event(), {}

    def sample(db: str) -> None:
        states[db] = sample_backends(db, until=time.time() + 86400, every=0.1, stop=stop)

    samplers = [threading.Thread(target=sample, args=(db,), daemon=True) for db in (PLATFORM_DB, BANK_DB)]
    for thread in samplers:
        thread.start()
    statements = StatementCounter()
    t0 = time.perf_counter()
    if workers == 1:
        with connection.execute_wrapper(statements):
            run = services.fees_charge(today=day, now=now, workers=1)
    else:
        run = services.fees_charge(today=day, now=now, workers=workers)
    seconds = time.perf_counter() - t0
    self_cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - self_cpu0
    bank_cpu = tree_cpu_seconds(server.pid) - bank_cpu0
    machine = cpu_busy_seconds() - machine0
    stop.set()
    for thread in samplers:
        thread.join()
    connections.close_all()
    check = phase_check(ids, day=day, before=before)
    n = max(check["allocations"], 1)
    row = {
        "name": name, "workers": workers, "job": run.counts(), "seconds": round(seconds, 2),
        "allocations": check["allocations"], "allocations_per_s": round(check["allocations"] / seconds, 1),
        "ms_per_allocation_wall": round(seconds / n * 1000, 2),
        **({"sql_statements_per_allocation": round((statements.statements - statements.savepoints) / n, 2),
            "savepoint_commands_per_allocation": round(statements.savepoints / n, 2)} if statements.statements else {}),
        "platform_cpu_ms_per_allocation": round(self_cpu / n * 1000, 2),
        "bank_cpu_ms_per_allocation": round(bank_cpu / n * 1000, 2),
        "machine_cpu_ms_per_allocation": round(machine / n * 1000, 2),
        "other_cpu_ms_per_allocation": round((machine - self_cpu - bank_cpu) / n * 1000, 2),
        "machine_cpu_busy_share": round(machine / seconds / (os.cpu_count() or 1), 3),
        "platform_backend_states": states.get(PLATFORM_DB, {}),
        "bank_backend_states": states.get(BANK_DB, {}),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "check": check,
    }
    print(f"  {name:<26} {row['allocations']:>6} allocations in {seconds:7.1f} s = {row['allocations_per_s']:7.1f}/s"
          f"   cpu ms/allocation: platform {row['platform_cpu_ms_per_allocation']},"
          f" bank {row['bank_cpu_ms_per_allocation']}, machine {row['machine_cpu_ms_per_allocation']}"
          + (f", SQL statements/allocation {row['sql_statements_per_allocation']}"
             if "sql_statements_per_allocation" in row else "")
          + f"   {'OK' if check['ok'] else 'CHECK FAILED'}", flush=True)
    return row


def hold(ids: tuple[int, int], *, running: bool) -> None:
    """Take allocations outside a phase out of the fee run meanwhile (CANCELLED is not
    RUNNING; the CHECKs allow it) and put them back after: a direct UPDATE on the seed, not
    a business move, recorded nowhere."""
    from django.db import connection

    lo, hi = ids
    with connection.cursor() as c:
        c.execute("UPDATE allocation_allocation SET status = %s WHERE id BETWEEN %s AND %s",
                  ["IN_PROGRESS" if running else "CANCELLED", lo, hi])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.allocation_fees", description=__doc__.split("\n\n")[0])
    parser.add_argument("--allocations", type=int, default=10_000, help="allocations charged by the concurrent run")
    parser.add_argument("--workers", type=int, default=8, help="fee run threads (ALLOCATION_FEE_WORKERS)")
    parser.add_argument("--sequential", type=int, default=300,
                        help="allocations of the sequential (workers=1) sample phase; 0: skip")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--bank-threads", type=int, default=8, help="gunicorn threads per bank worker")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--output", type=Path, default=RESULTS / "allocation_fees.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    configure_environment(PLATFORM_DB, BANK_DB)
    port = free_port()
    os.environ.update({"WANXIN_ROLE": "platform", "DATABASE_URL": pg_url(PLATFORM_DB),
                       "BANK_DATABASE_URL": pg_url(BANK_DB), "BANK_URL": f"http://127.0.0.1:{port}/bank",
                       "WANXIN_DB_POOL_SIZE": str(max(20, args.workers + 4)),
                       "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")})
    print(f"Wanxin allocation fee run: {args.allocations:,} DAILY allocations, {args.workers} workers "
          f"(+ {args.sequential:,} sequential), bank gunicorn on :{port}", flush=True)
    machine = machine_facts()
    server_info = server_facts()
    print("pgbench TPC-B…", flush=True)
    pgbench = pgbench_reference(PGBENCH_DB, seconds=args.pgbench_seconds) if args.pgbench_seconds else {}
    print(f"  pgbench: {pgbench.get('tps')} tps", flush=True)

    recreate_databases([PLATFORM_DB, BANK_DB])
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from wanxin.allocation import domain

    day = trading_day_on_or_after(timezone.now().astimezone(domain.BEIJING).date())
    start = previous_trading_day(day)
    total = args.allocations + args.sequential
    print("Migrating and seeding both databases…", flush=True)
    seeded = seed(total, start=start)
    seeded["day_charged"] = str(day)
    print(f"  {total:,} allocations in {seeded['seconds']} s", flush=True)
    seeded["mirrors"] = mirror_check()
    seeded["bank"] = bank_check()
    connections.close_all()
    if not (seeded["mirrors"]["ok"] and seeded["bank"]["ok"]):
        raise SystemExit(f"the seeded state is inconsistent: {seeded['mirrors']} {seeded['bank']}")
    print("  seeded state: mirrors OK; bank OK", flush=True)
    with connections["default"].cursor() as c:
        c.execute("SELECT min(id), max(id) FROM allocation_allocation")
        first, last = c.fetchone()
    sample = (first, first + args.sequential - 1)
    rest = (first + args.sequential, last)

    server = start_gunicorn(port, "wanxin.settings", threads=args.bank_threads, env=bank_environment(port))
    rows = []
    try:
        if args.sequential:
            hold(rest, running=False)
            rows.append(run_phase("sequential (workers=1)", ids=sample, day=day, workers=1, server=server))
            hold(rest, running=True)
            hold(sample, running=False)  # charged already; out of the way of the timed run's query
        rows.append(run_phase(f"concurrent (workers={args.workers})", ids=rest, day=day, workers=args.workers,
                              server=server))
        if args.sequential:
            hold(sample, running=True)
    finally:
        stop_server(server)

    print("Checking…", flush=True)
    mirrors = mirror_check()
    requests = requests_by_status()
    bank = bank_check()
    connections.close_all()
    if not args.keep:
        drop_database(PLATFORM_DB)
        drop_database(BANK_DB)
    tps = pgbench.get("tps")
    for row in rows:
        row["ratio_to_pgbench"] = round(row["allocations_per_s"] / tps, 4) if tps else None
    main_row = rows[-1]
    ok = (all(r["check"]["ok"] for r in rows) and mirrors["ok"] and bank["ok"]
          and not any(k.endswith(":PENDING") for k in requests))
    met = bool(tps) and main_row["allocations_per_s"] >= TARGET * tps
    print(f"pgbench TPC-B: {tps} tps; target {TARGET} x = {TARGET * tps if tps else '?'} allocations/s; "
          f"{main_row['allocations_per_s']}/s → {'MET' if met else 'NOT MET'}")
    print(f"depository requests: {requests}")
    print(f"mirrors: {'OK' if mirrors['ok'] else mirrors}; bank: {bank} → {'OK' if ok else 'VIOLATED'}")
    result = {
        **result_head("allocation_fees", started=started, args=args, machine=machine),
        "postgresql": server_info,
        "pgbench": pgbench,
        "bank_server": f"gunicorn gthread 2 workers x {args.bank_threads} threads, WANXIN_ROLE=bank",
        "seed": seeded,
        "phases": rows,
        "allocations_per_s": main_row["allocations_per_s"],
        "ratio_to_pgbench": main_row["ratio_to_pgbench"],
        "depository_requests": requests,
        "mirrors": mirrors,
        "bank_invariants": bank,
        "target": f"allocations/s >= {TARGET} x pgbench TPC-B tps",
        "target_met": met,
        "ok": ok,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"Wrote {args.output} in {result['runtime_s']:.0f} s total.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
