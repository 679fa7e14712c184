"""The allocations level: what the bank holds frozen for allocations against what each
allocation's fund records say it holds (deposit + top-ups + increases + risk fund, less
releases and what settlement took out of the freezes; ``allocation.selectors``).

What the contract lets us compare (PROTOCOL §6, not changed here): the bank's balance file
carries one row per account (``available``, ``frozen``), no freeze by ``bizType`` or
``preRequestNo``; ``QUERY_REQUEST`` returns a freeze's original answer, not what remains of
it; ``QUERY_BALANCE`` is now, not the day's close. So the bank's side is the customer's
frozen total, and the comparison is per customer: the bank's frozen balance must equal the
platform's object ledgers, i.e. the allocations' fund records plus the customer's other
freezes (tenders, repayments: their fund records whose request no allocation owns). The
bank's share for allocations is its frozen total less those other freezes.

Customers checked: everyone with an allocation fund record before the close, and whoever the
day's statement shows with an ``ALLOCATION`` freeze (a freeze made behind the platform's back
for a customer without allocations). All in one statement in PostgreSQL against the loaded
balance file; the differences are inserted by it (no row passes through Python)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils.translation import gettext as _

from wanxin.allocation import selectors as allocation
from wanxin.core.money import format_fen
from wanxin.depository import services as depository
from wanxin.depository.client import BankClient
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.models import DepositoryAccount, FundRecord

from . import domain
from .loading import BALANCE_TABLE, STATEMENT_TABLE
from .models import Difference

ALLOCATION_BIZ_TYPE = "ALLOCATION"


def _view_sql(end: dt.datetime, scope: str, scope_params: list) -> tuple[str, list]:
    """CTEs ending in ``v(user_no, ledger, other, nos)``: per customer of ``scope`` (a query
    of ``user_id``s that may use the CTE ``led``), the allocations' records (``ledger``), the
    other freezes (``other``), the allocations holding freezes (``nos``), all at ``end``.

    ``other``: each fund record's change of the frozen balance (its ``frozen_after`` less the
    one before it), summed over the records no allocation request owns."""
    ledger_sql, ledger_params = allocation.frozen_by_allocation(end).query.sql_with_params()
    owned_sql, owned_params = allocation.bank_request_numbers().query.sql_with_params()
    accounts, records = DepositoryAccount._meta.db_table, FundRecord._meta.db_table
    sql = (
        f"WITH a AS ({ledger_sql}), "  # noqa: S608 (table names are ours; every value is a parameter)
        " led AS (SELECT customer_ref AS user_id, sum(frozen)::bigint AS frozen, "
        "  string_agg(allocation_ref, ' ' ORDER BY allocation_ref) FILTER (WHERE frozen <> 0) AS nos "
        "  FROM a GROUP BY customer_ref), "
        f" scope AS ({scope}), "
        " fr AS (SELECT f.user_id, f.request_no, "
        "  f.frozen_after - COALESCE(lag(f.frozen_after) OVER (PARTITION BY f.user_id ORDER BY f.created_at, f.id), 0)"
        "  AS delta "
        f"  FROM {records} f WHERE f.user_id IN (SELECT user_id FROM scope) AND f.created_at < %s), "
        f" owned AS ({owned_sql}), "
        " other AS (SELECT user_id, sum(delta)::bigint AS frozen FROM fr "
        "  WHERE NOT EXISTS (SELECT 1 FROM owned o WHERE o.request_no = fr.request_no) GROUP BY user_id), "
        " v AS (SELECT d.user_no, COALESCE(led.frozen, 0) AS ledger, COALESCE(other.frozen, 0) AS other, "
        "  COALESCE(led.nos, '') AS nos "
        f"  FROM {accounts} d LEFT JOIN led ON led.user_id = d.user_id "
        "  LEFT JOIN other ON other.user_id = d.user_id WHERE d.user_id IN (SELECT user_id FROM scope)) "
    )
    return sql, [*ledger_params, *scope_params, end, *owned_params]


def allocations_match(day_id: int, end: dt.datetime) -> int:
    """Insert an ``ALLOCATION_DIFFERS`` for each customer whose frozen balance in the bank's
    file is not the allocations' records plus their other freezes. Returns how many."""
    accounts = DepositoryAccount._meta.db_table
    scope = ("SELECT user_id FROM led UNION "  # noqa: S608
             f"SELECT d.user_id FROM {accounts} d JOIN {STATEMENT_TABLE} s ON s.user_no = d.user_no "
             "WHERE s.biz_type = %s AND s.service_name = 'USER_PRE_TRANSACTION'")
    view, params = _view_sql(end, scope, [ALLOCATION_BIZ_TYPE])
    insert = (
        f"INSERT INTO {Difference._meta.db_table} (day_id, kind, request_no, account, service_name, "  # noqa: S608
        "bank_amount, platform_amount, bank_status, platform_status, bank_available, bank_frozen, "
        "platform_available, platform_frozen, status, comment, bank_answer, found_at, allocations) "
        "SELECT %s, %s, '', v.user_no, '', COALESCE(b.frozen, 0) - v.other, v.ledger, '', '', "
        " COALESCE(b.available, 0), COALESCE(b.frozen, 0), NULL, v.ledger + v.other, 'OPEN', '', '', now(), v.nos "
        f"FROM v LEFT JOIN {BALANCE_TABLE} b ON b.user_no = v.user_no "
        "WHERE COALESCE(b.frozen, 0) <> v.ledger + v.other ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cur:
        cur.execute(view + insert, [*params, day_id, Difference.Kind.ALLOCATION_DIFFERS])
        return cur.rowcount


def customer_view(user_no: str, end: dt.datetime) -> tuple[int, int]:
    """One customer's (allocations' records, other freezes) at ``end``."""
    accounts = DepositoryAccount._meta.db_table
    view, params = _view_sql(end, f"SELECT user_id FROM {accounts} WHERE user_no = %s", [user_no])  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(view + "SELECT ledger, other FROM v", params)  # noqa: S608
        row = cur.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def difference_recheck(difference: Difference, end: dt.datetime, client: BankClient | None) -> tuple[bool, str]:
    """Re-query: each of the customer's requests still pending is looked up at the bank (what
    it finished is applied through the normal idempotent path), then the platform's view at
    the close is compared with the bank's frozen balance again."""
    pending = DepositoryRequest.objects.filter(user_no=difference.account, status=DepositoryRequest.Status.PENDING,
                                               service_name__in=domain.MONEY_SERVICES).order_by("created_at")
    looked_up = 0
    for record in pending:
        depository.request_requery(request_no=record.request_no, client=client)
        looked_up += 1
    ledger, other = customer_view(difference.account, end)
    agrees = ledger + other == difference.bank_frozen
    return agrees, _("Looked up %(n)s pending requests; the allocations' records now say %(a)s frozen, the other "
                     "freezes %(o)s.") % {"n": looked_up, "a": format_fen(ledger), "o": format_fen(other)}
