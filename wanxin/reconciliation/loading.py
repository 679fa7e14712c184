"""The bank's files into PostgreSQL: COPY into a temporary table (dropped at commit) whose
column types and CHECK constraints are the rows' shape, so the one COPY pass both loads and
checks every row (a bad one names its line). A malformed row refuses the whole file: the
caller's transaction rolls back and nothing is recorded.

Measured (``benchmarks/reconciliation.py``): the same checks as regular expressions in a scan
after the COPY took ten times the COPY itself (PostgreSQL's regex engine expands bounded
repetitions such as ``{1,64}``); typed columns and plain patterns cost little more than the
COPY."""

from __future__ import annotations

import re

from django.db import connection

from . import domain
from .domain import FileRefused

STATEMENT_TABLE = "recon_statement"
BALANCE_TABLE = "recon_balance"

# An identifier as the protocol allows it (requestNo, userNo, projectNo): 1-64 of [A-Za-z0-9_-].
_ID = "{c} ~ '^[A-Za-z0-9_-]+$' AND length({c}) <= 64"
_CODE = "{c} ~ '^[A-Z_]*$' AND length({c}) <= 32"
_STATEMENT_COLUMNS = (
    ("request_no", "text NOT NULL CHECK (" + _ID.format(c="request_no") + ")"),
    ("service_name", "text NOT NULL CHECK (" + _CODE.format(c="service_name") + ")"),
    ("biz_type", "text CHECK (" + _CODE.format(c="biz_type") + ")"),
    ("user_no", "text NOT NULL CHECK (" + _ID.format(c="user_no") + ")"),
    ("counterparty", "text CHECK (" + _ID.format(c="counterparty") + ")"),
    ("amount", "bigint NOT NULL CHECK (amount >= 0)"),
    ("commission", "bigint NOT NULL CHECK (commission >= 0)"),
    ("status", "text NOT NULL CHECK (status IN ({}))".format(", ".join(f"'{s}'" for s in domain.STATEMENT_STATUSES))),
    ("finished_at", "timestamptz NOT NULL"),
)
_BALANCE_COLUMNS = (
    ("user_no", "text NOT NULL CHECK (" + _ID.format(c="user_no") + ")"),
    ("available", "bigint NOT NULL CHECK (available >= 0)"),
    ("frozen", "bigint NOT NULL CHECK (frozen >= 0)"),
    ("as_of", "timestamptz NOT NULL"),
)
_LINE = re.compile(r"line (\d+)")


def _load(table: str, columns: tuple[tuple[str, str], ...], content: bytes, key: str) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("load the bank's files inside the reconciliation's transaction")
    names = ", ".join(name for name, _ in columns)
    with connection.cursor() as cur:
        # Room for the hash aggregate and joins over a million rows in memory (this
        # transaction only).
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute(f"CREATE TEMPORARY TABLE {table} ("  # names and types are ours, not input
                    + ", ".join(f"{name} {kind}" for name, kind in columns) + ") ON COMMIT DROP")
        try:
            with cur.cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                for start in range(0, len(content), 1 << 20):
                    copy.write(content[start:start + (1 << 20)])
        except Exception as exc:  # a bad value, wrong column count, bad quoting, invalid UTF-8
            raise FileRefused(_why(exc)) from exc
        cur.execute(f"SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1 LIMIT 1")  # noqa: S608
        twice = cur.fetchone()
        if twice is not None:
            raise FileRefused(f"{twice[0]} appears more than once")


def _why(exc: Exception) -> str:
    """The database's reason, with the file's line (the header is line 1)."""
    diag = getattr(getattr(exc, "__cause__", None) or exc, "diag", None)
    context = getattr(diag, "context", "") or ""
    line = _LINE.search(context)
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"line {line.group(1)} is malformed ({first})" if line else f"the file cannot be read ({first})"


def statement_load(content: bytes) -> None:
    _load(STATEMENT_TABLE, _STATEMENT_COLUMNS, content, "request_no")


def balances_load(content: bytes) -> None:
    _load(BALANCE_TABLE, _BALANCE_COLUMNS, content, "user_no")
