"""The bank in a benchmark's loop: a bank-role process beside the platform (its environment,
code run in it, its migration), the bank's balance history written set-based, balances of
either side and the platform-against-bank mirror check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from benchmarks.common import ROOT, pg_url

# The bank-only role migrates everything through ``default`` (``wanxin.dbrouter``); the
# second call finds nothing to do, as in a deployment.
BANK_MIGRATE = """
from django.core.management import call_command
call_command("migrate", database="default", interactive=False, verbosity=0)
call_command("migrate", database="bank", interactive=False, verbosity=0)
"""


def bank_environment(bank_db: str, port: int = 0) -> dict[str, str]:
    """A bank-only process: both aliases on the bank's database. The bank notifies only
    gateway results; nothing listens at the notify address."""
    return {"WANXIN_ROLE": "bank", "DATABASE_URL": pg_url(bank_db), "BANK_DATABASE_URL": pg_url(bank_db),
            "PORT": str(port), "BANK_NOTIFY_URL": "http://127.0.0.1:9/api/v1/depository/notify"}


def bank_side(code: str, bank_db: str, port: int = 0) -> Any:
    """Run ``code`` in a bank-role Django process (a platform process cannot load the bank's
    models); it prints one JSON value, returned decoded (None when it prints nothing)."""
    env = {**os.environ, **bank_environment(bank_db, port)}
    done = subprocess.run([sys.executable, "-c", "import django, json; django.setup()\n" + code],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"bank-side step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None


def bank_history_write(c, *, order: str = "request_id, o") -> None:
    """The bank's balance history from the temp table ``s_change`` (``request_id``,
    ``account_id``, ``d_a``, ``d_f``, ``at`` and the columns of ``order``, the order the
    pipeline applies a request's changes in): one ``bank_balancechange`` row each with
    running balances per account, the id sequence after them, and every account's balance
    set to the sum of its history (so ``replay_mismatches()`` finds none)."""
    c.execute(
        "INSERT INTO bank_balancechange (id, account_id, request_id, delta_available, delta_frozen, available_after,"
        " frozen_after, created_at)"
        " SELECT row_number() OVER o, account_id, request_id, d_a, d_f, sum(d_a) OVER w, sum(d_f) OVER w, at"
        f" FROM s_change WINDOW o AS (ORDER BY {order}), w AS (PARTITION BY account_id ORDER BY {order})"
        f" ORDER BY {order}")
    c.execute("SELECT setval(pg_get_serial_sequence('bank_balancechange', 'id'),"
              " (SELECT max(id) FROM bank_balancechange))")
    c.execute("UPDATE bank_account a SET available = s.a, frozen = s.f FROM (SELECT account_id,"
              " sum(delta_available) AS a, sum(delta_frozen) AS f FROM bank_balancechange GROUP BY account_id) s"
              " WHERE a.id = s.account_id")


def balances(db: str) -> dict[str, tuple[int, int]]:
    """``{account: (available, frozen)}``: the bank's accounts (``db="bank"``) or the
    platform's mirrors by user number."""
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
