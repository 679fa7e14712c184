"""Seeding both databases, set-based (``INSERT … SELECT`` on both sides), as paying and
approval leave them for N customers: see the package's docstring."""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal
from typing import Any

from benchmarks.bank_loop import BANK_MIGRATE, bank_history_write, bank_side

PLATFORM_DB, BANK_DB = "wanxin_allocfees", "wanxin_allocfees_bank"
PGBENCH_DB = "wanxin_allocfees_pgbench"
DEPOSIT, MULTIPLE, DURATION = 1_000_000, 3, 20  # fen, x, trading days
RATE, RISK_FUND_RATE = Decimal("0.001200"), Decimal("0.010000")  # the seeded "daily" product at 3x
ALLOCATED = DEPOSIT * MULTIPLE
FEE = 3_600  # rhu(3,000,000 x 0.0012)
RISK_FUND = 30_000  # rhu(3,000,000 x 0.01)
PAID = DEPOSIT + RISK_FUND + FEE
SPARE, SHORT = 66_400, FEE - 1  # available after paying: enough for the fee; not enough (every 10th)
TARGETS = {"issue 12": 0.1, "issue 14": 0.5}  # allocations/s >= target x pgbench tps



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
    bank_side(BANK_MIGRATE, BANK_DB)
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
        " fees_paid, start_date, end_date, auto_renew, pays_risk_fund, approved_at, created_at,"
        " updated_at)"
        " SELECT 'AFA' || i, id, %(product)s, 'IN_PROGRESS', 'DAILY', %(m)s, %(rate)s, %(dur)s, %(rfr)s, %(wp)s,"
        " %(lp)s, %(d)s, %(alloc)s, %(rf)s, %(fee)s, %(warn)s, %(liq)s, %(d)s, %(rf)s, 0, 0, 0, %(fee)s,"
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
    bank_history_write(c, order="request_id, o")
    c.execute("DROP TABLE s_acct, s_req, s_change")


