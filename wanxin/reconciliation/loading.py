"""The bank's files into PostgreSQL: COPY into a temporary table (dropped at commit), then
every row's shape checked by one scan there. A malformed row refuses the whole file: the
caller's transaction rolls back and nothing is recorded."""

from __future__ import annotations

from django.db import connection

from . import domain
from .domain import FileRefused

STATEMENT_TABLE = "recon_statement"
BALANCE_TABLE = "recon_balance"

_STATEMENT_COLUMNS = ("request_no", "service_name", "biz_type", "user_no", "counterparty", "amount",
                      "commission", "status", "finished_at")
_BALANCE_COLUMNS = ("user_no", "available", "frozen", "as_of")

# Each condition is TRUE for a good row; NULL (an empty field) counts as bad unless allowed.
_STATEMENT_SHAPE = (
    "request_no ~ %(request_no)s AND service_name ~ '^[A-Z_]{1,32}$' "
    "AND COALESCE(biz_type, '') ~ '^[A-Z_]{0,32}$' AND user_no ~ %(account)s "
    "AND COALESCE(counterparty, '') ~ '^[A-Za-z0-9_-]{0,64}$' "
    "AND amount ~ %(fen)s AND commission ~ %(fen)s AND status = ANY(%(statuses)s) AND finished_at ~ %(ts)s"
)
_BALANCE_SHAPE = "user_no ~ %(account)s AND available ~ %(fen)s AND frozen ~ %(fen)s AND as_of ~ %(ts)s"
_PARAMS = {"request_no": domain.REQUEST_NO_RE, "account": domain.ACCOUNT_RE, "fen": domain.FEN_RE,
           "ts": domain.TIMESTAMP_RE, "statuses": list(domain.STATEMENT_STATUSES)}


def _load(table: str, columns: tuple[str, ...], content: bytes, shape: str, key: str) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("load the bank's files inside the reconciliation's transaction")
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {table} (line bigserial, "
                    + ", ".join(f"{c} text" for c in columns) + ") ON COMMIT DROP")
        try:
            with cur.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN "
                                 "WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(content)
        except Exception as exc:  # wrong column count, bad quoting, invalid UTF-8
            raise FileRefused(f"the file cannot be read as CSV: {str(exc).splitlines()[0]}") from exc
        cur.execute(f"SELECT line FROM {table} WHERE ({shape}) IS NOT TRUE ORDER BY line LIMIT 1",  # noqa: S608
                    _PARAMS)
        bad = cur.fetchone()
        if bad is not None:
            raise FileRefused(f"row {bad[0]} is malformed")
        cur.execute(f"SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1 LIMIT 1")  # noqa: S608
        twice = cur.fetchone()
        if twice is not None:
            raise FileRefused(f"{twice[0]} appears more than once")


def statement_load(content: bytes) -> None:
    _load(STATEMENT_TABLE, _STATEMENT_COLUMNS, content, _STATEMENT_SHAPE, "request_no")


def balances_load(content: bytes) -> None:
    _load(BALANCE_TABLE, _BALANCE_COLUMNS, content, _BALANCE_SHAPE, "user_no")
