"""Matching in PostgreSQL, set against set: the loaded statement joined with the platform's
request records by requestNo in two statements, each writing its differences straight into
``reconciliation_difference`` (no row travels through Python; 1,000,000 rows take seconds,
``benchmarks/reconciliation.py``).

Which platform records a day covers: every record a statement row names (whatever its own
date), and every successful money-moving record the platform finished that day; one of
those the statement lacks is missing at the bank."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord

from . import domain
from .loading import BALANCE_TABLE, STATEMENT_TABLE
from .models import Difference

DIFFERENCE = "reconciliation_difference"
_INSERT = (f"INSERT INTO {DIFFERENCE} (day_id, kind, request_no, account, service_name, bank_amount, "
           "platform_amount, bank_status, platform_status, bank_available, bank_frozen, platform_available, "
           "platform_frozen, status, comment, bank_answer, found_at) ")


@dataclass(frozen=True)
class Counts:
    matched: int
    differences: int


def transactions_match(day_id: int) -> Counts:
    requests = DepositoryRequest._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"WITH j AS (SELECT s.request_no, s.service_name, s.amount::bigint AS bank_amount, s.status AS bank_status, "  # noqa: S608
            "  d.amount AS platform_amount, d.status AS platform_status, "
            "  CASE WHEN d.id IS NULL THEN %(missing)s WHEN d.status <> s.status THEN %(status)s "
            "       WHEN d.amount IS DISTINCT FROM s.amount::bigint THEN %(amount)s END AS kind "
            f" FROM {STATEMENT_TABLE} s LEFT JOIN {requests} d ON d.request_no = s.request_no), "
            f"ins AS ({_INSERT} SELECT %(day)s, kind, request_no, '', service_name, bank_amount, platform_amount, "
            "  bank_status, COALESCE(platform_status, ''), NULL, NULL, NULL, NULL, 'OPEN', '', '', now() "
            "  FROM j WHERE kind IS NOT NULL ON CONFLICT DO NOTHING RETURNING 1) "
            "SELECT count(*) FILTER (WHERE kind IS NULL), count(*) FILTER (WHERE kind IS NOT NULL), "
            " (SELECT count(*) FROM ins) FROM j",
            {"day": day_id, "missing": Difference.Kind.MISSING_ON_PLATFORM, "status": Difference.Kind.STATUS_DIFFERS,
             "amount": Difference.Kind.AMOUNT_DIFFERS},
        )
        matched, found, _inserted = cur.fetchone()
    return Counts(matched=matched, differences=found)


def missing_at_bank(day_id: int, start: dt.datetime, end: dt.datetime) -> int:
    requests = DepositoryRequest._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"{_INSERT} SELECT %(day)s, %(kind)s, d.request_no, '', d.service_name, NULL, d.amount, '', d.status, "  # noqa: S608
            "  NULL, NULL, NULL, NULL, 'OPEN', '', '', now() "
            f"FROM {requests} d WHERE d.status = 'SUCCESS' AND d.service_name = ANY(%(services)s) "
            "  AND d.finished_at >= %(start)s AND d.finished_at < %(end)s "
            f"  AND NOT EXISTS (SELECT 1 FROM {STATEMENT_TABLE} s WHERE s.request_no = d.request_no) "
            "ON CONFLICT DO NOTHING",
            {"day": day_id, "kind": Difference.Kind.MISSING_AT_BANK, "services": list(domain.MONEY_SERVICES),
             "start": start, "end": end},
        )
        return cur.rowcount


def customer_balances_match(day_id: int, end: dt.datetime) -> int:
    """Every customer's available and frozen balance in the bank's file against the platform's
    own view at the day's close: the balances after its last fund record before the close (the
    mirror ``DepositoryAccount`` moves with the same statement as each record, so the latest
    record *is* the mirror, and a past close can be read)."""
    accounts, records = DepositoryAccount._meta.db_table, FundRecord._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            "WITH p AS (SELECT a.user_no, COALESCE(r.available_after, 0) AS available, "  # noqa: S608
            "  COALESCE(r.frozen_after, 0) AS frozen "
            f" FROM {accounts} a LEFT JOIN LATERAL (SELECT available_after, frozen_after FROM {records} f "
            "   WHERE f.user_id = a.user_id AND f.created_at < %(end)s ORDER BY f.created_at DESC, f.id DESC LIMIT 1"
            "  ) r ON true WHERE a.status = 'OPEN'), "
            " b AS (SELECT user_no, available::bigint AS available, frozen::bigint AS frozen "
            f"  FROM {BALANCE_TABLE} WHERE user_no <> ALL(%(platform)s)) "
            f"{_INSERT} SELECT %(day)s, %(kind)s, '', COALESCE(b.user_no, p.user_no), '', NULL, NULL, '', '', "
            " COALESCE(b.available, 0), COALESCE(b.frozen, 0), COALESCE(p.available, 0), COALESCE(p.frozen, 0), "
            " 'OPEN', '', '', now() "
            "FROM b FULL OUTER JOIN p ON p.user_no = b.user_no "
            "WHERE COALESCE(b.available, 0) <> COALESCE(p.available, 0) OR COALESCE(b.frozen, 0) <> COALESCE(p.frozen, 0) "
            "ON CONFLICT DO NOTHING",
            {"day": day_id, "kind": Difference.Kind.BALANCE_DIFFERS, "end": end, "platform": list(domain.PLATFORM_ACCOUNTS)},
        )
        return cur.rowcount


def bank_balances(accounts: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT user_no, available::bigint, frozen::bigint FROM {BALANCE_TABLE} "  # noqa: S608
                    "WHERE user_no = ANY(%s)", [list(accounts)])
        return {no: (available, frozen) for no, available, frozen in cur.fetchall()}


def customer_view(user_no: str, end: dt.datetime) -> tuple[int, int]:
    """One customer's balances at ``end`` as the platform's fund records say."""
    record = (FundRecord.objects.filter(user__depository_account__user_no=user_no, created_at__lt=end)
              .order_by("-created_at", "-id").values_list("available_after", "frozen_after").first())
    return record or (0, 0)
