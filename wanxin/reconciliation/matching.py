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


OUTSIDE_TABLE = "recon_outside"


def transactions_match(day_id: int, start: dt.datetime, end: dt.datetime) -> Counts:
    """Two statements. (1) One hash FULL OUTER JOIN of the statement with the platform's
    successful money-moving records finished that day: both sides present is matched or
    amount differs (a platform amount of NULL too); only the platform's is missing at the bank; only the statement's (a few:
    planted differences, requests finished across midnight) go to a small table. (2) Those
    looked up one by one in the platform's records by the unique requestNo index: none is
    missing on the platform; pending or failed there is status differs; another amount is
    amount differs; else (finished another day) matched. One scan of the day's records, not
    of the platform's whole history."""
    requests = DepositoryRequest._meta.db_table
    kinds = {"missing_bank": Difference.Kind.MISSING_AT_BANK, "missing_platform": Difference.Kind.MISSING_ON_PLATFORM,
             "status": Difference.Kind.STATUS_DIFFERS, "amount": Difference.Kind.AMOUNT_DIFFERS}
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {OUTSIDE_TABLE} (request_no text, service_name text, amount bigint, "
                    "status text) ON COMMIT DROP")
        # The join is read once and keeps only the rows that are not a plain match (a few
        # thousand), so the million matched rows are counted, not materialised: the statement's
        # rows less those among the odd ones (measured: materialising the whole join for three
        # readers was a third of the statement's time).
        cur.execute(
            f"WITH w AS (SELECT request_no, service_name, amount, status FROM {requests} "  # noqa: S608
            "  WHERE status = 'SUCCESS' AND service_name = ANY(%(services)s) "
            "  AND finished_at >= %(start)s AND finished_at < %(end)s), "
            " odd AS (SELECT s.request_no AS s_no, s.service_name AS s_service, s.amount AS s_amount, "
            "  s.status AS s_status, w.request_no AS w_no, w.service_name AS w_service, w.amount AS w_amount, "
            "  w.status AS w_status "
            f"  FROM {STATEMENT_TABLE} s FULL OUTER JOIN w ON w.request_no = s.request_no "
            "  WHERE s.request_no IS NULL OR w.request_no IS NULL OR s.amount IS DISTINCT FROM w.amount), "
            f" diff AS ({_INSERT} SELECT %(day)s, "
            "   CASE WHEN s_no IS NULL THEN %(missing_bank)s ELSE %(amount)s END, COALESCE(s_no, w_no), '', "
            "   COALESCE(s_service, w_service), s_amount, w_amount, COALESCE(s_status, ''), w_status, "
            "   NULL, NULL, NULL, NULL, 'OPEN', '', '', now() "
            "  FROM odd WHERE w_no IS NOT NULL ON CONFLICT DO NOTHING RETURNING 1), "
            f" outside AS (INSERT INTO {OUTSIDE_TABLE} SELECT s_no, s_service, s_amount, s_status FROM odd "
            "  WHERE w_no IS NULL RETURNING 1) "
            f"SELECT (SELECT count(*) FROM {STATEMENT_TABLE}) - count(*) FILTER (WHERE s_no IS NOT NULL), "
            " count(*) FILTER (WHERE w_no IS NOT NULL), (SELECT count(*) FROM diff), (SELECT count(*) FROM outside) "
            "FROM odd",
            {"day": day_id, "services": list(domain.MONEY_SERVICES), "start": start, "end": end, **kinds},
        )
        joined_matched, found, _inserted, _outside = cur.fetchone()
        cur.execute(
            f"WITH k AS (SELECT o.request_no, o.service_name, o.amount AS bank_amount, o.status AS bank_status, "  # noqa: S608
            "  d.amount AS platform_amount, d.status AS platform_status, "
            "  CASE WHEN d.id IS NULL THEN %(missing_platform)s WHEN d.status <> o.status THEN %(status)s "
            "       WHEN d.amount IS DISTINCT FROM o.amount THEN %(amount)s END AS kind "
            f"  FROM {OUTSIDE_TABLE} o LEFT JOIN {requests} d ON d.request_no = o.request_no), "
            f" ins AS ({_INSERT} SELECT %(day)s, kind, request_no, '', service_name, bank_amount, platform_amount, "
            "  bank_status, COALESCE(platform_status, ''), NULL, NULL, NULL, NULL, 'OPEN', '', '', now() "
            "  FROM k WHERE kind IS NOT NULL ON CONFLICT DO NOTHING RETURNING 1) "
            "SELECT count(*) FILTER (WHERE kind IS NULL), count(*) FILTER (WHERE kind IS NOT NULL), "
            " (SELECT count(*) FROM ins) FROM k",
            {"day": day_id, **kinds},
        )
        also_matched, also_found, _ = cur.fetchone()
    return Counts(matched=joined_matched + also_matched, differences=found + also_found)


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
            " b AS (SELECT user_no, available, frozen "
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
        cur.execute(f"SELECT user_no, available, frozen FROM {BALANCE_TABLE} "  # noqa: S608
                    "WHERE user_no = ANY(%s)", [list(accounts)])
        return {no: (available, frozen) for no, available, frozen in cur.fetchall()}


def customer_view(user_no: str, end: dt.datetime) -> tuple[int, int]:
    """One customer's balances at ``end`` as the platform's fund records say."""
    record = (FundRecord.objects.filter(user__depository_account__user_no=user_no, created_at__lt=end)
              .order_by("-created_at", "-id").values_list("available_after", "frozen_after").first())
    return record or (0, 0)
