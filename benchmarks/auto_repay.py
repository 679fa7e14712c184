"""Automatic repayment of N due periods with the bank in the loop over real HTTP.

    python -m benchmarks.auto_repay [--periods 10000] [--processes 2] [--workers 8] [--sequential-periods 1000]
                                    [--pgbench-seconds 20] [--output …]

Issue 4 (c): "automatic repayment of 10,000 due periods with the bank in the loop:
periods/s, target >= 0.1 x pgbench TPC-B tps". On the PostgreSQL at 127.0.0.1:5432 it
drops and recreates wanxin_autorepay (platform) and wanxin_autorepay_bank (bank), migrates
both, and seeds, set-based, the state the real flow leaves after disbursement (see
``seed``): --periods + --sequential-periods REPAYING loans of ¥12,000 over 12 months, three
investors each (¥5,000 / ¥4,000 / ¥3,000) from a pool of investors each holding about ten
loans, with their repayment and receivable plans; and at the bank the accounts, cards,
recharges, tender freezes, CREATE_PROJECT / MODIFY_PROJECT and CONFIRM_LOAN requests with
their transfers and balance history. The bank runs as production does (gunicorn gthread
2 x 8, WANXIN_ROLE=bank, its own database); this process is the platform
(WANXIN_ROLE=platform) and runs ``wanxin.repayments.services.auto_repay``: per period
USER_PRE_TRANSACTION (REPAYMENT freeze) and CONFIRM_REPAYMENT over HTTP with their result
handlers.

Two timed phases: the sequential sample (first period due yesterday, ``workers=1``), then
the --periods loans (first period due today) with ``workers`` threads. Each phase is timed
from the job's start until every period is REPAID. Afterwards it checks every period
REPAID with one DONE repayment, every receivable RECEIVED, every investor's bank balance up
by exactly their shares, PLATFORM_INCOME up by the platform's shares, the platform's
mirrors (DepositoryAccount, the last FundRecord) equal to the bank's balances, no request
pending, and the bank's ``total_balance() == 0`` and ``replay_mismatches() == []``.
pgbench TPC-B runs in the same run. Writes benchmarks/results/auto_repay.json.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
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

PLATFORM_DB, BANK_DB, PGBENCH_DB = "wanxin_autorepay", "wanxin_autorepay_bank", "wanxin_autorepay_pgbench"
LOAN = 12_000_00  # fen
MONTHS, METHOD = 12, "EQUAL_INSTALLMENT"
BORROWER_RATE, INVESTOR_RATE, FEE_RATE = Decimal("0.120000"), Decimal("0.100000"), Decimal("0.020000")
TENDERS = (5_000_00, 4_000_00, 3_000_00)  # per loan, from three different investors
LOANS_PER_INVESTOR = 10
TARGET = 0.1  # periods/s >= 0.1 x pgbench tps


# -- environment ----------------------------------------------------------------------------


def bank_environment(port: int) -> dict[str, str]:
    """A bank-only process: both aliases on the bank's database."""
    return {"WANXIN_ROLE": "bank", "DATABASE_URL": pg_url(BANK_DB), "BANK_DATABASE_URL": pg_url(BANK_DB),
            "PORT": str(port),
            # The bank notifies only gateway results (none here); nothing listens there.
            "BANK_NOTIFY_URL": "http://127.0.0.1:9/api/v1/depository/notify"}


def bank_side(code: str, port: int = 0) -> Any:
    """Run ``code`` in a bank-role Django process (the platform process cannot load the
    bank's models); it prints one JSON value."""
    env = {**os.environ, **bank_environment(port)}
    done = subprocess.run([sys.executable, "-c", "import django, json; django.setup()\n" + code],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"bank-side step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None


# The bank-only role migrates everything through ``default`` (``wanxin.dbrouter``); the
# second call finds nothing to do, as in a deployment.
BANK_MIGRATE = """
from django.core.management import call_command
call_command("migrate", database="default", interactive=False, verbosity=0)
call_command("migrate", database="bank", interactive=False, verbosity=0)
"""

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


# -- seeding --------------------------------------------------------------------------------


def amounts(start: dt.date) -> dict[str, Any]:
    """Exactly what ``repayments.services.plans_generate`` computes for one seeded loan
    (same domain functions, tenders in primary-key order)."""
    from wanxin.lending import domain as lending_domain
    from wanxin.repayments import domain

    periods = domain.schedule(LOAN, BORROWER_RATE, MONTHS, METHOD, start=start)
    holdings = dict(enumerate(TENDERS))
    parts = domain.investor_receivables(periods, holdings, INVESTOR_RATE, BORROWER_RATE)
    shares = domain.platform_shares(periods, parts)
    return {
        "periods": [(p.number, p.due, p.principal, p.interest, share) for p, share in zip(periods, shares, strict=True)],
        "parts": [(k, part.number, part.due, part.principal, part.interest)
                  for k, tender_parts in parts.items() for part in tender_parts],
        "fee": lending_domain.service_fee(LOAN, FEE_RATE),
    }


def seed(*, main: int, sample: int, today: dt.date) -> dict[str, Any]:
    """Both databases as the real flow leaves them after ``main + sample`` disbursements.

    Loans 0 … sample-1 (the sequential sample) were disbursed a month before yesterday, the
    others a month before today, so their first periods fall due yesterday and today."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, connections

    from wanxin.protocol import codes
    from wanxin.repayments import domain

    started = time.monotonic()
    call_command("migrate", database="default", interactive=False, verbosity=0)
    bank_side(BANK_MIGRATE)
    loans = main + sample
    investors = max(len(TENDERS), loans * len(TENDERS) // LOANS_PER_INVESTOR)
    groups = []
    for group, due in ((0, today - dt.timedelta(days=1)), (1, today)):
        start = domain.add_months(due, -1)
        plan = amounts(start)
        if plan["periods"][0][1] != due:
            raise SystemExit(f"no disbursement day has its first period due on {due} (month end)")
        groups.append((group, start, plan))
    fee = groups[0][2]["fee"]
    card = int(os.environ.get("BANK_SIMULATED_CARD_BALANCE", str(10_000_000_00)))
    ok_msg = codes.MESSAGES[codes.SUCCESS]
    user_model = get_user_model()
    maker = user_model.objects.create_user(username="ar-maker", password=None, is_operator=True)
    checker = user_model.objects.create_user(username="ar-checker", password=None, is_operator=True)

    # Loans: i, group, disbursement time; tenders: (i, k) → investor (3i + k) mod investors.
    setup = [
        "CREATE TEMP TABLE s_loan AS SELECT i, CASE WHEN i < %(sample)s THEN 0 ELSE 1 END AS grp,"
        " (CASE WHEN i < %(sample)s THEN %(start0)s::date ELSE %(start1)s::date END + time '10:00')"
        "   AT TIME ZONE 'Asia/Shanghai' + i * interval '1 millisecond' AS at"
        " FROM generate_series(0, %(loans)s - 1) i",
        "CREATE TEMP TABLE s_tender AS SELECT l.i, k, (3 * l.i + k) %% %(investors)s AS j,"
        " (ARRAY[%(t0)s, %(t1)s, %(t2)s]::bigint[])[k + 1] AS amount FROM s_loan l, generate_series(0, 2) k",
    ]
    params = {"sample": sample, "loans": loans, "investors": investors, "start0": groups[0][1],
              "start1": groups[1][1], "t0": TENDERS[0], "t1": TENDERS[1], "t2": TENDERS[2]}
    for db in ("default", "bank"):
        with connections[db].cursor() as c:
            for sql in setup:
                c.execute(sql, params)
            c.execute("CREATE TEMP TABLE s_period (grp int, number int, due date, principal bigint, interest bigint,"
                      " share bigint)")
            c.execute("CREATE TEMP TABLE s_part (grp int, k int, number int, due date, principal bigint,"
                      " interest bigint)")
            for group, _, plan in groups:
                c.executemany("INSERT INTO s_period VALUES (%s, %s, %s, %s, %s, %s)",
                              [(group, *p) for p in plan["periods"]])
                c.executemany("INSERT INTO s_part VALUES (%s, %s, %s, %s, %s, %s)",
                              [(group, *p) for p in plan["parts"]])
            c.execute("CREATE TEMP TABLE s_investor AS SELECT j, sum(amount) AS recharged, min(i) AS first_loan"
                      " FROM s_tender GROUP BY j")

    with connection.cursor() as c:
        seed_platform(c, fee=fee, maker=maker.pk, checker=checker.pk)
    with connections["bank"].cursor() as c:
        seed_bank(c, fee=fee, card=card, ok_msg=ok_msg)
    for db in ("default", "bank"):
        with connections[db].cursor() as c:
            c.execute("DROP TABLE s_loan, s_tender, s_period, s_part, s_investor")
            c.execute("VACUUM ANALYZE")
    return {"loans": loans, "main_loans": main, "sequential_sample_loans": sample, "investors": investors,
            "tenders_per_loan": len(TENDERS), "loan_fen": LOAN, "months": MONTHS, "method": METHOD,
            "first_due": {"sequential_sample": str(today - dt.timedelta(days=1)), "main": str(today)},
            "period_1_fen": groups[1][2]["periods"][0][2] + groups[1][2]["periods"][0][3],
            "seconds": round(time.monotonic() - started, 1)}


def seed_platform(c, *, fee: int, maker: int, checker: int) -> None:
    """Users, depository accounts (mirrors), applications, projects, tenders, disbursements,
    plans, receivables and fund records, as lending's and repayments' handlers write them."""
    c.execute("SELECT id FROM lending_loanproduct WHERE code = 'STANDARD'")
    product = c.fetchone()[0]
    # Customers: borrowers ARB…, investors ARI…; passwords unusable (never log in here).
    c.execute(
        "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
        " is_active, date_joined, mobile, user_no, role, is_operator)"
        " SELECT '!', false, 'arb' || i, '', '', '', false, true, at - interval '20 days',"
        " '131' || lpad(i::text, 8, '0'), 'ARB' || lpad(i::text, 8, '0'), 'BORROWER', false FROM s_loan"
        " UNION ALL SELECT '!', false, 'ari' || j, '', '', '', false, true, now() - interval '60 days',"
        " '132' || lpad(j::text, 8, '0'), 'ARI' || lpad(j::text, 8, '0'), 'INVESTOR', false FROM s_investor")
    c.execute("CREATE TEMP TABLE s_user AS SELECT id, user_no FROM accounts_user WHERE user_no LIKE 'AR%%'")
    c.execute("CREATE UNIQUE INDEX ON s_user (user_no)")
    # Mirrors: a borrower holds the loan less the service fee; investors tendered everything.
    c.execute(
        "INSERT INTO funds_depositoryaccount (user_id, user_no, status, full_name, id_number, id_number_index,"
        " card_number, bank_code, mobile, role, requested_auth, auth_list, request_no, fail_reason, attempts,"
        " available, frozen, opened_at, created_at, updated_at)"
        " SELECT u.id, u.user_no, 'OPEN', '', '', '', '', 'ICBC', '', '', '[\"REPAYMENT\", \"TENDER\"]',"
        " '[\"REPAYMENT\", \"TENDER\"]', 'ARPR' || u.user_no, '', 1,"
        " CASE WHEN u.user_no LIKE 'ARB%%' THEN %s ELSE 0 END, 0, now() - interval '50 days',"
        " now() - interval '50 days', now() FROM s_user u", [LOAN - fee])
    c.execute(
        "INSERT INTO lending_loanapplication (borrower_id, product_id, amount, months, method, purpose, description,"
        " created_at) SELECT u.id, %s, %s, %s, %s, 'Shop stock', '', l.at - interval '10 days'"
        " FROM s_loan l JOIN s_user u ON u.user_no = 'ARB' || lpad(l.i::text, 8, '0') ORDER BY l.i",
        [product, LOAN, MONTHS, METHOD])
    c.execute(
        "INSERT INTO lending_project (application_id, borrower_id, project_no, name, description, amount, months,"
        " method, status, bank_status, borrower_rate, investor_rate, service_fee_rate, window_days, min_investment,"
        " increment, per_investor_cap, reviewed_by_id, reviewed_at, review_reason, create_request_no, bank_error,"
        " raised, frozen_amount, collect_until, published_at, full_at, miscarry_reason, loaned_at, created_at,"
        " updated_at)"
        " SELECT a.id, a.borrower_id, 'ARP' || l.i, 'Shop stock', '', %s, %s, %s, 'REPAYING', 'REPAYING', %s, %s, %s,"
        " 7, 10000, 10000, 10000000, %s, l.at - interval '9 days', '', 'ARCP' || l.i, '', %s, 0,"
        " l.at - interval '2 days', l.at - interval '9 days', l.at - interval '1 day', '', l.at,"
        " l.at - interval '10 days', l.at"
        " FROM s_loan l JOIN s_user u ON u.user_no = 'ARB' || lpad(l.i::text, 8, '0')"
        " JOIN lending_loanapplication a ON a.borrower_id = u.id ORDER BY l.i",
        [LOAN, MONTHS, METHOD, BORROWER_RATE, INVESTOR_RATE, FEE_RATE, maker, LOAN])
    c.execute("CREATE TEMP TABLE s_project AS SELECT substr(project_no, 4)::int AS i, id, borrower_id"
              " FROM lending_project WHERE project_no LIKE 'ARP%%'")
    c.execute(
        "INSERT INTO lending_tender (project_id, investor_id, amount, status, request_no, cancel_request_no,"
        " fail_reason, created_at, updated_at)"
        " SELECT p.id, u.id, t.amount, 'LOANED', 'ART' || t.i || '_' || t.k, '', '',"
        " l.at - interval '5 days' + t.k * interval '1 second', l.at"
        " FROM s_tender t JOIN s_loan l USING (i) JOIN s_project p USING (i)"
        " JOIN s_user u ON u.user_no = 'ARI' || lpad(t.j::text, 8, '0') ORDER BY t.i, t.k")
    c.execute(
        "INSERT INTO lending_disbursement (project_id, status, commission, proposed_by_id, approved_by_id,"
        " request_no, note, created_at, decided_at)"
        " SELECT p.id, 'DONE', %s, %s, %s, 'ARL' || l.i, '', l.at - interval '1 hour', l.at - interval '1 minute'"
        " FROM s_loan l JOIN s_project p USING (i) ORDER BY l.i", [fee, maker, checker])
    c.execute(
        "INSERT INTO repayments_repaymentplan (project_id, borrower_id, number, due_date, principal, interest,"
        " platform_share, penalty, status, paid_amount)"
        " SELECT p.id, p.borrower_id, s.number, s.due, s.principal, s.interest, s.share, 0, 'DUE', 0"
        " FROM s_loan l JOIN s_project p USING (i) JOIN s_period s ON s.grp = l.grp ORDER BY l.i, s.number")
    c.execute("CREATE TEMP TABLE s_tid AS SELECT t.i, t.k, lt.id, lt.investor_id FROM s_tender t"
              " JOIN lending_tender lt ON lt.request_no = 'ART' || t.i || '_' || t.k")
    c.execute(
        "INSERT INTO repayments_receivableplan (plan_id, tender_id, investor_id, number, due_date, principal,"
        " interest, status, received_amount)"
        " SELECT rp.id, t.id, t.investor_id, s.number, s.due, s.principal, s.interest, 'DUE', 0"
        " FROM s_tid t JOIN s_loan l USING (i) JOIN s_project p USING (i)"
        " JOIN s_part s ON s.grp = l.grp AND s.k = t.k"
        " JOIN repayments_repaymentplan rp ON rp.project_id = p.id AND rp.number = s.number"
        " ORDER BY t.i, s.number, t.k")
    # Fund records, in the order the events happened; afters are running sums per customer.
    c.execute(
        "CREATE TEMP TABLE s_event AS"
        # the investor's recharge (gateway RECHARGE), before their first tender
        " SELECT 'ARI' || lpad(v.j::text, 8, '0') AS user_no, 'RECHARGE' AS type, v.recharged AS amount,"
        "  v.recharged AS d_a, 0::bigint AS d_f, 'ARRC' || v.j AS request_no, '' AS remark,"
        "  l.at - interval '6 days' AS at, l.i * 10 AS ord"
        "  FROM s_investor v JOIN s_loan l ON l.i = v.first_loan"
        # each tender's freeze when placed, paid out at disbursement
        " UNION ALL SELECT 'ARI' || lpad(t.j::text, 8, '0'), 'FREEZE', -t.amount, -t.amount, t.amount,"
        "  'ART' || t.i || '_' || t.k, 'investment frozen', l.at - interval '5 days', t.i * 10 + 1 + t.k"
        "  FROM s_tender t JOIN s_loan l USING (i)"
        " UNION ALL SELECT 'ARI' || lpad(t.j::text, 8, '0'), 'TENDER', -t.amount, 0, -t.amount,"
        "  'ART' || t.i || '_' || t.k, 'loan ARP' || t.i, l.at, t.i * 10 + 5"
        "  FROM s_tender t JOIN s_loan l USING (i)"
        " UNION ALL SELECT 'ARB' || lpad(l.i::text, 8, '0'), 'LOAN_RECEIVED', %s, %s, 0, 'ARL' || l.i,"
        "  'loan ARP' || l.i, l.at, l.i * 10 + 6 FROM s_loan l"
        " UNION ALL SELECT 'ARB' || lpad(l.i::text, 8, '0'), 'LOAN_COMMISSION', -%s, -%s, 0, 'ARL' || l.i,"
        "  'service fee', l.at, l.i * 10 + 7 FROM s_loan l", [LOAN, LOAN, fee, fee])
    c.execute(
        "INSERT INTO funds_fundrecord (user_id, type, amount, available_after, frozen_after, request_no, remark,"
        " created_at)"
        " SELECT u.id, e.type, e.amount, sum(e.d_a) OVER w, sum(e.d_f) OVER w, e.request_no, e.remark, e.at"
        " FROM s_event e JOIN s_user u USING (user_no)"
        " WINDOW w AS (PARTITION BY e.user_no ORDER BY e.ord, e.type) ORDER BY e.ord, e.type")
    c.execute("DROP TABLE s_user, s_project, s_tid, s_event")


def seed_bank(c, *, fee: int, card: int, ok_msg: str) -> None:
    """Accounts with cards, the requests of the flow (ids in the order they happened), their
    freezes, transfers and balance history, and the balances that history sums to."""
    c.execute(
        "INSERT INTO bank_account (platform_no, account_no, kind, status, available, frozen, full_name, id_number,"
        " mobile, role, auth_list, trade_password, failed_password_count, opened_at)"
        " VALUES (%s, 'CARD_NETWORK', 'CARD_NETWORK', 'OPEN', 0, 0, '', '', '', '', '[]', '', 0, now()),"
        " (%s, 'PLATFORM_INCOME', 'PLATFORM_INCOME', 'OPEN', 0, 0, '', '', '', '', '[]', '', 0, now())",
        [platform_no(), platform_no()])
    c.execute(
        "INSERT INTO bank_account (platform_no, account_no, kind, status, available, frozen, full_name, id_number,"
        " mobile, role, auth_list, trade_password, failed_password_count, opened_at)"
        " SELECT %s, 'ARI' || lpad(j::text, 8, '0'), 'CUSTOMER', 'OPEN', 0, 0, 'Investor ' || j,"
        "  '11010119800' || lpad(j::text, 7, '0'), '132' || lpad(j::text, 8, '0'), 'INVESTOR',"
        "  '[\"REPAYMENT\", \"TENDER\"]'::jsonb, '!', 0, now() - interval '50 days' FROM s_investor"
        " UNION ALL SELECT %s, 'ARB' || lpad(i::text, 8, '0'), 'CUSTOMER', 'OPEN', 0, 0, 'Borrower ' || i,"
        "  '11010119900' || lpad(i::text, 7, '0'), '131' || lpad(i::text, 8, '0'), 'BORROWER',"
        "  '[\"REPAYMENT\", \"TENDER\"]'::jsonb, '!', 0, now() - interval '50 days' FROM s_loan",
        [platform_no(), platform_no()])
    c.execute("CREATE TEMP TABLE s_acct AS SELECT id, account_no, kind <> 'CUSTOMER' AS shared FROM bank_account")
    c.execute("CREATE UNIQUE INDEX ON s_acct (account_no)")
    c.execute(
        "INSERT INTO bank_bankcard (account_id, bank_code, card_number, balance)"
        " SELECT a.id, 'ICBC', '622202' || lpad(a.id::text, 13, '0'), %s - COALESCE(v.recharged, 0)"
        " FROM s_acct a LEFT JOIN s_investor v ON a.account_no = 'ARI' || lpad(v.j::text, 8, '0')"
        " WHERE a.account_no LIKE 'AR%%'", [card])
    # The requests, numbered in the order they happened: every investor's recharge first,
    # then per loan CREATE_PROJECT, three tender freezes, MODIFY_PROJECT FULL, CONFIRM_LOAN,
    # MODIFY_PROJECT REPAYING.
    c.execute(
        "CREATE TEMP TABLE s_req AS"
        " SELECT v.j + 1 AS id, 'ARRC' || v.j AS request_no, 'RECHARGE' AS service,"
        "  jsonb_build_object('userNo', 'ARI' || lpad(v.j::text, 8, '0'), 'amount', v.recharged) AS data,"
        "  'RECHARGE' AS biz, 'ARI' || lpad(v.j::text, 8, '0') AS user_no, 'CARD' AS counterparty,"
        "  v.recharged AS amount, 0::bigint AS commission, true AS moved, now() - interval '40 days' AS at"
        "  FROM s_investor v"
        " UNION ALL SELECT %(inv)s + l.i * 7 + 1, 'ARCP' || l.i, 'CREATE_PROJECT',"
        "  jsonb_build_object('projectNo', 'ARP' || l.i, 'borrowerUserNo', 'ARB' || lpad(l.i::text, 8, '0'),"
        "   'amount', %(loan)s, 'annualRate', '0.120000', 'periods', %(months)s, 'repaymentMethod', %(method)s,"
        "   'name', 'Shop stock'), '', '', '', NULL, NULL, false, l.at - interval '9 days' FROM s_loan l"
        " UNION ALL SELECT %(inv)s + t.i * 7 + 2 + t.k, 'ART' || t.i || '_' || t.k, 'USER_PRE_TRANSACTION',"
        "  jsonb_build_object('userNo', 'ARI' || lpad(t.j::text, 8, '0'), 'bizType', 'TENDER', 'amount', t.amount,"
        "   'projectNo', 'ARP' || t.i, 'remark', 'tender ARP' || t.i), 'TENDER', 'ARI' || lpad(t.j::text, 8, '0'),"
        "  'ARP' || t.i, t.amount, 0, true, l.at - interval '5 days' FROM s_tender t JOIN s_loan l USING (i)"
        " UNION ALL SELECT %(inv)s + l.i * 7 + 5, 'ARMF' || l.i, 'MODIFY_PROJECT',"
        "  jsonb_build_object('projectNo', 'ARP' || l.i, 'status', 'FULL'), '', '', '', NULL, NULL, false,"
        "  l.at - interval '1 day' FROM s_loan l"
        " UNION ALL SELECT %(inv)s + l.i * 7 + 6, 'ARL' || l.i, 'CONFIRM_LOAN',"
        "  jsonb_build_object('projectNo', 'ARP' || l.i, 'commission', %(fee)s, 'details',"
        "   (SELECT jsonb_agg(jsonb_build_object('preRequestNo', 'ART' || t.i || '_' || t.k, 'amount', t.amount)"
        "    ORDER BY t.k) FROM s_tender t WHERE t.i = l.i)),"
        "  'LOAN', 'ARB' || lpad(l.i::text, 8, '0'), 'ARP' || l.i, %(loan)s, %(fee)s, true, l.at FROM s_loan l"
        " UNION ALL SELECT %(inv)s + l.i * 7 + 7, 'ARMR' || l.i, 'MODIFY_PROJECT',"
        "  jsonb_build_object('projectNo', 'ARP' || l.i, 'status', 'REPAYING'), '', '', '', NULL, NULL, false,"
        "  l.at + interval '1 second' FROM s_loan l",
        {"inv": c_investors(c), "loan": LOAN, "months": MONTHS, "method": METHOD, "fee": fee})
    c.execute(
        "INSERT INTO bank_bankrequest (id, platform_no, request_no, service_name, digest, req_data, status, resp_code,"
        " response, biz_type, user_no, counterparty, amount, commission, moved_money, created_at, finished_at)"
        " SELECT r.id, %(p)s, r.request_no, r.service, encode(sha256(convert_to(r.data::text, 'UTF8')), 'hex'),"
        "  r.data || jsonb_build_object('requestNo', r.request_no,"
        "   'timestamp', (extract(epoch FROM r.at) * 1000)::bigint), 'SUCCESS', '00000',"
        "  jsonb_build_object('requestNo', r.request_no, 'respCode', '00000', 'respMsg', %(ok)s, 'status', 'SUCCESS')"
        "   || CASE r.service"
        "    WHEN 'RECHARGE' THEN jsonb_build_object('userNo', r.user_no, 'amount', r.amount)"
        "    WHEN 'CREATE_PROJECT' THEN jsonb_build_object('projectNo', r.data->'projectNo',"
        "     'projectStatus', 'COLLECTING')"
        "    WHEN 'USER_PRE_TRANSACTION' THEN jsonb_build_object('userNo', r.user_no, 'amount', r.amount,"
        "     'frozen', r.amount)"
        "    WHEN 'CONFIRM_LOAN' THEN jsonb_build_object('projectNo', r.counterparty, 'amount', r.amount,"
        "     'commission', r.commission)"
        "    ELSE jsonb_build_object('projectNo', r.data->'projectNo', 'projectStatus', r.data->'status') END,"
        "  r.biz, r.user_no, r.counterparty, r.amount, r.commission, r.moved, r.at, r.at"
        " FROM s_req r ORDER BY r.id", {"p": platform_no(), "ok": ok_msg})
    c.execute("SELECT setval(pg_get_serial_sequence('bank_bankrequest', 'id'), (SELECT max(id) FROM bank_bankrequest))")
    c.execute("INSERT INTO bank_project (platform_no, project_no, borrower_id, amount, annual_rate, periods,"
              " repayment_method, name, status, created_at)"
              " SELECT %s, 'ARP' || l.i, a.id, %s, %s, %s, %s, 'Shop stock', 'REPAYING', l.at - interval '9 days'"
              " FROM s_loan l JOIN s_acct a ON a.account_no = 'ARB' || lpad(l.i::text, 8, '0') ORDER BY l.i",
              [platform_no(), LOAN, BORROWER_RATE, MONTHS, METHOD])
    # Tender freezes, wholly posted by CONFIRM_LOAN.
    c.execute("INSERT INTO bank_freeze (request_id, account_id, biz_type, project_no, amount, remaining, status,"
              " created_at)"
              " SELECT r.id, a.id, 'TENDER', r.counterparty, r.amount, 0, 'POSTED', r.at"
              " FROM s_req r JOIN s_acct a ON a.account_no = r.user_no WHERE r.service = 'USER_PRE_TRANSACTION'"
              " ORDER BY r.id")
    c.execute(
        "CREATE TEMP TABLE s_move AS"  # request, debit, credit, amount, freeze
        " SELECT r.id AS request_id, card.id AS debit, a.id AS credit, r.amount, NULL::bigint AS freeze_id, r.at"
        "  FROM s_req r JOIN s_acct a ON a.account_no = r.user_no, s_acct card"
        "  WHERE r.service = 'RECHARGE' AND card.account_no = 'CARD_NETWORK'"
        " UNION ALL SELECT cl.id, f.account_id, b.id, f.amount, f.id, cl.at"
        "  FROM s_req cl JOIN s_acct b ON b.account_no = cl.user_no"
        "  JOIN s_req tr ON tr.service = 'USER_PRE_TRANSACTION' AND tr.counterparty = cl.counterparty"
        "  JOIN bank_freeze f ON f.request_id = tr.id WHERE cl.service = 'CONFIRM_LOAN'"
        " UNION ALL SELECT cl.id, b.id, inc.id, %s, NULL, cl.at"
        "  FROM s_req cl JOIN s_acct b ON b.account_no = cl.user_no, s_acct inc"
        "  WHERE cl.service = 'CONFIRM_LOAN' AND inc.account_no = 'PLATFORM_INCOME'", [fee])
    c.execute("INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at)"
              " SELECT request_id, debit, credit, amount, freeze_id, at FROM s_move"
              " ORDER BY request_id, freeze_id NULLS LAST")
    # Net change per request and account, in the order the pipeline applies them: customer
    # accounts by primary key, then the shared ones (card network, platform income).
    c.execute(
        "CREATE TEMP TABLE s_change AS SELECT request_id, account_id, sum(d_a) AS d_a, sum(d_f) AS d_f, max(at) AS at,"
        "  bool_or(a.shared) AS shared FROM ("
        "  SELECT request_id, debit AS account_id, CASE WHEN freeze_id IS NULL THEN -amount ELSE 0 END AS d_a,"
        "   CASE WHEN freeze_id IS NULL THEN 0 ELSE -amount END AS d_f, at FROM s_move"
        "  UNION ALL SELECT request_id, credit, amount, 0, at FROM s_move"
        "  UNION ALL SELECT r.id, a.id, -r.amount, r.amount, r.at FROM s_req r"
        "   JOIN s_acct a ON a.account_no = r.user_no WHERE r.service = 'USER_PRE_TRANSACTION'"
        " ) x JOIN s_acct a ON a.id = x.account_id GROUP BY request_id, account_id")
    c.execute(
        "INSERT INTO bank_balancechange (id, account_id, request_id, delta_available, delta_frozen, available_after,"
        " frozen_after, created_at)"
        " SELECT row_number() OVER o, account_id, request_id, d_a, d_f, sum(d_a) OVER w, sum(d_f) OVER w, at"
        " FROM s_change"
        " WINDOW o AS (ORDER BY request_id, shared, account_id),"
        "  w AS (PARTITION BY account_id ORDER BY request_id, shared, account_id)"
        " ORDER BY request_id, shared, account_id")
    c.execute("SELECT setval(pg_get_serial_sequence('bank_balancechange', 'id'),"
              " (SELECT max(id) FROM bank_balancechange))")
    c.execute("UPDATE bank_account a SET available = s.a, frozen = s.f FROM (SELECT account_id,"
              " sum(delta_available) AS a, sum(delta_frozen) AS f FROM bank_balancechange GROUP BY account_id) s"
              " WHERE a.id = s.account_id")
    c.execute("DROP TABLE s_acct, s_req, s_move, s_change")


def c_investors(c) -> int:
    c.execute("SELECT count(*) FROM s_investor")
    return c.fetchone()[0]


def platform_no() -> str:
    from django.conf import settings

    return settings.PLATFORM_NO


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
    """Platform mirrors (DepositoryAccount and each customer's last FundRecord) against the bank."""
    from django.db import connection

    bank, mirror = balances("bank"), balances("default")
    with connection.cursor() as c:
        c.execute("SELECT DISTINCT ON (r.user_id) d.user_no, r.available_after, r.frozen_after"
                  " FROM funds_fundrecord r JOIN funds_depositoryaccount d ON d.user_id = r.user_id"
                  " ORDER BY r.user_id, r.id DESC")
        last = {no: (a, f) for no, a, f in c.fetchall()}
    differ = [no for no, pair in mirror.items() if bank.get(no) != pair]
    records = [no for no, pair in mirror.items() if last.get(no, (0, 0)) != pair]
    return {"accounts": len(mirror), "mirror_differs_from_bank": len(differ), "samples": differ[:5],
            "last_fund_record_differs": len(records), "record_samples": records[:5],
            "ok": not differ and not records}


def bank_check() -> dict[str, Any]:
    found = bank_side(BANK_CHECK)
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


# -- the timed phases -----------------------------------------------------------------------


SHARD_CHILD = """
import datetime as dt, json, resource, sys, time
import django
django.setup()
from django.db import connection
from wanxin.repayments import services
index, count, due, workers = int(sys.argv[1]), int(sys.argv[2]), dt.date.fromisoformat(sys.argv[3]), int(sys.argv[4])
with connection.cursor() as c:
    c.execute("SELECT 1")
print("ready", flush=True)
sys.stdin.readline()
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t0 = time.perf_counter()
counts = services.auto_repay(today=due, workers=workers, shard=(index, count))
print(json.dumps({"counts": counts, "seconds": time.perf_counter() - t0,
                  "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0}), flush=True)
"""


class ShardProcesses:
    """``processes`` platform processes, each running ``auto_repay(shard=(i, processes))``
    with ``workers`` threads: Django set up and connected before the clock starts, then
    released together (a line on stdin); each reports its counts and CPU seconds."""

    def __init__(self, processes: int, *, due: dt.date, workers: int) -> None:
        self.children = [subprocess.Popen([sys.executable, "-c", SHARD_CHILD, str(i), str(processes), due.isoformat(),
                                           str(workers)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          text=True) for i in range(processes)]
        for child in self.children:
            if child.stdout.readline().strip() != "ready":
                raise SystemExit("a shard process failed to start")

    def run(self) -> tuple[dict[str, int], float, list[dict[str, Any]]]:
        for child in self.children:
            child.stdin.write("go\n")
            child.stdin.flush()
        reports = []
        for child in self.children:
            out, _ = child.communicate()
            if child.returncode:
                raise SystemExit(f"a shard process failed ({child.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        counts: dict[str, int] = {}
        for report in reports:
            for key, value in report["counts"].items():
                counts[key] = counts.get(key, 0) + value
        return counts, sum(r["cpu"] for r in reports), reports


def run_phase(name: str, *, due: dt.date, workers: int, server: Any, profile: bool = False,
              processes: int = 1) -> dict[str, Any]:
    from django.db import connection, connections

    from wanxin.repayments import services

    before = balances("bank")
    shards = ShardProcesses(processes, due=due, workers=workers) if processes > 1 else None
    with connection.cursor() as c:  # warm the connection so the job doesn't pay for opening it
        c.execute("SELECT 1")
    self_cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    bank_cpu0 = tree_cpu_seconds(server.pid)
    machine0 = cpu_busy_seconds()
    # What each database's backends are doing meanwhile (pg_stat_activity samples).
    stop, states = threading.Event(), {}

    def sample(db: str) -> None:
        states[db] = sample_backends(db, until=time.time() + 86400, every=0.1, stop=stop)

    samplers = [threading.Thread(target=sample, args=(db,), daemon=True) for db in (PLATFORM_DB, BANK_DB)]
    for thread in samplers:
        thread.start()
    profiler = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    children_cpu, reports = 0.0, []
    # One thread, one process: the whole flow runs on this thread's connection, so every SQL
    # statement (savepoints apart; BEGIN/COMMIT are not sent as statements) is counted.
    statements = StatementCounter()

    if shards:
        counts, children_cpu, reports = shards.run()
    elif workers == 1:
        with connection.execute_wrapper(statements):
            counts = services.auto_repay(today=due, workers=workers)
    else:
        counts = services.auto_repay(today=due, workers=workers)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - t0
    # The platform: this process (the job, or only the samplers when shard processes run it)
    # plus the shard processes.
    self_cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - self_cpu0 + children_cpu
    bank_cpu = tree_cpu_seconds(server.pid) - bank_cpu0
    machine = cpu_busy_seconds() - machine0
    stop.set()
    for thread in samplers:
        thread.join()
    connections.close_all()
    check = phase_check(None, due=due, before=before)
    n = max(check["periods"], 1)
    row = {
        "name": name, "processes": processes, "workers": workers, "job": counts,
        "shard_reports": [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in reports], "seconds": round(seconds, 2),
        "periods": check["periods"], "periods_per_s": round(check["repaid"] / seconds, 1),
        "ms_per_period_wall": round(seconds / n * 1000, 2),
        **({"sql_statements_per_period": round((statements.statements - statements.savepoints) / n, 2),
            "savepoint_commands_per_period": round(statements.savepoints / n, 2)} if statements.statements else {}),
        # CPU per period: this process (the platform: job threads, ORM, signing, httpx), the
        # bank's gunicorn workers, and the whole machine (+ PostgreSQL and anything else).
        "platform_cpu_ms_per_period": round(self_cpu / n * 1000, 2),
        "bank_cpu_ms_per_period": round(bank_cpu / n * 1000, 2),
        "machine_cpu_ms_per_period": round(machine / n * 1000, 2),
        "other_cpu_ms_per_period": round((machine - self_cpu - bank_cpu) / n * 1000, 2),
        "machine_cpu_busy_share": round(machine / seconds / (os.cpu_count() or 1), 3),
        "platform_backend_states": states.get(PLATFORM_DB, {}),
        "bank_backend_states": states.get(BANK_DB, {}),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "check": check,
    }
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        row["profile"] = out.getvalue()
    print(f"  {name:<34} {row['periods']:>6} periods in {seconds:7.1f} s = {row['periods_per_s']:7.1f}/s   "
          f"cpu ms/period: platform {row['platform_cpu_ms_per_period']}, bank {row['bank_cpu_ms_per_period']}, "
          f"machine {row['machine_cpu_ms_per_period']}"
          + (f", SQL statements/period {row['sql_statements_per_period']}"
             f" (+ {row['savepoint_commands_per_period']} savepoint commands)"
             if "sql_statements_per_period" in row else "")
          + f"   {'OK' if check['ok'] else 'CHECK FAILED'}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.auto_repay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--periods", type=int, default=10_000, help="due periods repaid by the concurrent job")
    parser.add_argument("--workers", type=int, default=8,
                        help="auto_repay threads (per process) for the main phase")
    parser.add_argument("--processes", type=int, default=2,
                        help="platform processes of the main phase, each running one shard of the job "
                             "(auto_repay(shard=(i, n)), as REPAYMENT_AUTO_SHARDS fans out Celery tasks); "
                             "1: the job in this process")
    parser.add_argument("--sequential-periods", type=int, default=1000,
                        help="periods of the sequential (workers=1) sample phase; 0: skip")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--bank-threads", type=int, default=8, help="gunicorn threads per bank worker")
    parser.add_argument("--profile", action="store_true",
                        help="run the sequential phase under cProfile (the platform's side, in this process; "
                             "slower); written next to the JSON as auto_repay_profile.txt")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--output", type=Path, default=RESULTS / "auto_repay.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    configure_environment(PLATFORM_DB, BANK_DB)
    port = free_port()
    os.environ.update({"WANXIN_ROLE": "platform", "DATABASE_URL": pg_url(PLATFORM_DB),
                       "BANK_DATABASE_URL": pg_url(BANK_DB), "BANK_URL": f"http://127.0.0.1:{port}/bank",
                       "WANXIN_DB_POOL_SIZE": str(max(20, args.workers + 4)),
                       # Production caches in Redis (balances are invalidated on every money result).
                       "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")})
    print(f"Wanxin automatic repayment: {args.periods:,} periods, {args.processes} process(es) x "
          f"{args.workers} workers "
          f"(+ {args.sequential_periods:,} sequential), bank gunicorn on :{port}", flush=True)
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

    today = timezone.localdate()
    print("Migrating and seeding both databases…", flush=True)
    seeded = seed(main=args.periods, sample=args.sequential_periods, today=today)
    print(f"  {seeded['loans']:,} loans, {seeded['investors']:,} investors in {seeded['seconds']} s", flush=True)
    seeded["mirrors"] = mirror_check()
    seeded["bank"] = bank_check()
    connections.close_all()
    print(f"  seeded state: mirrors {'OK' if seeded['mirrors']['ok'] else seeded['mirrors']}; bank "
          f"{'OK' if seeded['bank']['ok'] else seeded['bank']}", flush=True)
    if not (seeded["mirrors"]["ok"] and seeded["bank"]["ok"]):
        raise SystemExit("the seeded state is inconsistent")

    server = start_gunicorn(port, "wanxin.settings", threads=args.bank_threads, env=bank_environment(port))
    rows = []
    try:
        if args.sequential_periods:
            rows.append(run_phase("sequential (workers=1)", due=today - dt.timedelta(days=1), workers=1,
                                  server=server, profile=args.profile))
        label = (f"concurrent ({args.processes} proc x {args.workers} thr)" if args.processes > 1
                 else f"concurrent (workers={args.workers})")
        rows.append(run_phase(label, due=today, workers=args.workers, server=server,
                              processes=args.processes))
    finally:
        stop_server(server)

    print("Checking…", flush=True)
    mirrors = mirror_check()
    requests = pending_requests()
    bank = bank_check()
    connections.close_all()
    if not args.keep:
        drop_database(PLATFORM_DB)
        drop_database(BANK_DB)
    tps = pgbench.get("tps")
    for row in rows:
        row["ratio_to_pgbench"] = round(row["periods_per_s"] / tps, 4) if tps else None
    main_row = rows[-1]
    ok = all(r["check"]["ok"] for r in rows) and mirrors["ok"] and bank["ok"] and not any(
        "PENDING" in k or "FAIL" in k for k in requests)
    met = bool(tps) and main_row["periods_per_s"] >= TARGET * tps

    print()
    print(f"{'phase':<34} {'periods':>8} {'seconds':>8} {'periods/s':>10} {'x pgbench':>10} "
          f"{'platform':>9} {'bank':>7} {'machine':>8}  (cpu ms/period)")
    for row in rows:
        print(f"{row['name']:<34} {row['periods']:>8} {row['seconds']:>8.1f} {row['periods_per_s']:>10.1f} "
              f"{row['ratio_to_pgbench'] or 0:>10.4f} {row['platform_cpu_ms_per_period']:>9.2f} "
              f"{row['bank_cpu_ms_per_period']:>7.2f} {row['machine_cpu_ms_per_period']:>8.2f}")
    print(f"pgbench TPC-B: {tps} tps; target {TARGET} x = {TARGET * tps if tps else '?'} periods/s → "
          f"{'MET' if met else 'NOT MET'}")
    print(f"depository requests: {requests}")
    print(f"mirrors: {'OK' if mirrors['ok'] else mirrors}; bank: total_balance {bank['total_balance']}, "
          f"replay_mismatches {bank['replay_mismatches']}, frozen freezes {bank['frozen_freezes']}, "
          f"notifications {bank['notifications']} → {'OK' if ok else 'VIOLATED'}")

    profile_text = rows[0].pop("profile", None)
    result = {
        **result_head("auto_repay", started=started, args=args, machine=machine),
        "postgresql": server_info,
        "pgbench": pgbench,
        "bank_server": f"gunicorn gthread 2 workers x {args.bank_threads} threads, WANXIN_ROLE=bank",
        "seed": seeded,
        "phases": rows,
        "depository_requests": requests,
        "mirrors": mirrors,
        "bank_invariants": bank,
        "target": f"periods/s >= {TARGET} x pgbench TPC-B tps",
        "target_met": met,
        "ok": ok,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    if profile_text:
        (args.output.parent / "auto_repay_profile.txt").write_text(profile_text)
    print(f"Wrote {args.output} in {result['runtime_s']:.0f} s total.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
