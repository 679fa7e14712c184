"""A bank-only deployment (``WANXIN_ROLE=bank``) migrates its one database completely, in the
order the deploy runs it: ``--database default`` then ``--database bank``."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
BANK_TABLES = {"bank_account", "bank_balancechange", "bank_freeze", "bank_transfer", "bank_bankrequest",
               "bank_notification", "bank_project", "bank_bankcard", "bank_statement"}


@pytest.fixture
def scratch_database():
    entry = settings.DATABASES["bank"]
    params = {"host": entry["HOST"], "port": entry.get("PORT") or None, "user": entry["USER"],
              "password": entry.get("PASSWORD") or None}
    name = f"wanxin_bankonly_{secrets.token_hex(4)}"
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, params
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_bank_role_migrates_the_bank_tables(scratch_database):
    name, params = scratch_database
    host = params["host"] or ""
    if host.startswith("/"):  # embedded server: its socket directory
        url = f"postgres://{params['user']}@/{name}?host={host}"
    else:
        url = f"postgres://{params['user']}@{host}:{params['port'] or 5432}/{name}"
    env = {**os.environ, "WANXIN_ROLE": "bank", "DATABASE_URL": url, "BANK_DATABASE_URL": url,
           "DJANGO_SETTINGS_MODULE": "wanxin.settings", "WANXIN_ENV": "development"}
    for alias in ("default", "bank"):
        result = subprocess.run([sys.executable, "manage.py", "migrate", "--database", alias, "-v", "0"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    with psycopg.connect(dbname=name, **params) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert BANK_TABLES - tables == set(), f"bank tables missing: {sorted(BANK_TABLES - tables)}"
