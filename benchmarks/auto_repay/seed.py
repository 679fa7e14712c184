"""Seeding, set-based, of the state the real flow leaves after disbursement (see ``seed``)."""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from benchmarks.bank_loop import BANK_MIGRATE, bank_side

from .config import (
    BANK_DB,
    BORROWER_RATE,
    FEE_RATE,
    INVESTOR_RATE,
    LOAN,
    LOANS_PER_INVESTOR,
    METHOD,
    MONTHS,
    TENDERS,
)


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
    bank_side(BANK_MIGRATE, BANK_DB)
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
