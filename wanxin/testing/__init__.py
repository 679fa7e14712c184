"""Helpers shared by the test suites (imported only from tests). Bank-side observations are in
``wanxin.testing.bank``; the bank outage fixture and recovery in ``wanxin.testing.faults``."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connections

# Connections a test may hold at once on PostgreSQL, all threads and the live server together:
# Debian's default max_connections is 100, and a few are reserved or held by other clients.
CONNECTION_BUDGET = 90


def fits_connections(threads: int, *, per_thread: int) -> None:
    """Refuse, before it starts, a race that could need more connections than PostgreSQL's
    default allows (``threads`` each holding ``per_thread``, plus the test's own two), unless
    the threads share bounded pools (``pooled_connections``)."""
    if "pool" in connections["default"].settings_dict["OPTIONS"]:
        return
    needed = threads * per_thread + 2
    if needed > CONNECTION_BUDGET:
        raise ValueError(f"{threads} threads may hold {needed} connections, more than {CONNECTION_BUDGET}: "
                         "run them inside pooled_connections()")


def at_once(func: Callable[[], Any], copies: int) -> list[Any]:
    """Run ``func`` on ``copies`` threads released together; each outcome is what it returned
    or the exception it raised, in the order they finished. Each thread closes its database
    connections, so the test database can be dropped afterwards. A thread may hold two at
    once (its own and, through the live server, the bank's)."""
    fits_connections(copies, per_thread=2)
    barrier = threading.Barrier(copies, timeout=60)
    outcomes: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(func())
        except Exception as exc:  # the caller asserts on it
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@contextmanager
def db_fault(table: str, when: str, *, alias: str = "default", errcode: str = "P0001",
             message: str = "injected fault") -> Iterator[None]:
    """A real failure at the database, for fault tests without replacing any of our code:
    while active, an INSERT into ``table`` whose row satisfies ``when`` (SQL over ``NEW``)
    fails with SQLSTATE ``errcode`` (P0001: a plain error; 23505: a unique violation), on
    every connection. The trigger is dropped on exit. Arguments are the test's own text."""
    name = f"wanxin_fault_{uuid.uuid4().hex[:12]}"
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{message}' USING ERRCODE = '{errcode}'; END $$"
        )
        cursor.execute(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW WHEN ({when}) "
                       f"EXECUTE FUNCTION {name}()")
    try:
        yield
    finally:
        with connections[alias].cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")


@contextmanager
def pooled_connections(max_size: int = 25, *, aliases: tuple[str, ...] = ("default", "bank"),
                       timeout: float = 120.0) -> Iterator[None]:
    """While active, every thread's connections to ``aliases`` (the test's threads and the
    live server's) come from one psycopg pool per alias of at most ``max_size`` (Django's
    ``pool`` option, as served processes use). Hundreds of threads still start at once and
    race; they queue for a connection instead of needing hundreds from PostgreSQL, so the
    test passes on a server with the default ``max_connections``. A thread must close its
    connections when done (``connections.close_all()``: back to the pool), as ``at_once``
    and the live server's request threads do."""
    if max_size * len(aliases) > CONNECTION_BUDGET:
        raise ValueError(f"{max_size} x {len(aliases)} pooled connections exceed {CONNECTION_BUDGET}")
    connections.close_all()  # reopened from the pools
    options = {alias: connections[alias].settings_dict["OPTIONS"] for alias in aliases}
    for opts in options.values():
        # The settings dict is shared by every thread's connection object, so all see the pool.
        if "pool" in opts:
            raise RuntimeError("connections are pooled already")
        opts["pool"] = {"min_size": 0, "max_size": max_size, "timeout": timeout}
    try:
        yield
    finally:
        connections.close_all()
        for alias, opts in options.items():
            connections[alias].close_pool()  # also closes connections returned to it later
            del opts["pool"]


@contextmanager
def session_peak(aliases: tuple[str, ...] = ("default", "bank"), interval: float = 0.01) -> Iterator[dict[str, int]]:
    """While active, sample how many sessions PostgreSQL holds on each alias's database (from
    a connection of its own, not counted); the yielded dict ends with the largest count
    seen per alias and, under ``"total"``, the largest sum at one moment."""
    databases = {connections[alias].settings_dict["NAME"]: alias for alias in aliases}
    peak = dict.fromkeys([*aliases, "total"], 0)
    stop = threading.Event()
    conn = psycopg.connect(**connections[aliases[0]].get_connection_params(), autocommit=True)

    def sample() -> None:
        while not stop.is_set():
            rows = conn.execute("SELECT datname, count(*) FROM pg_stat_activity WHERE datname = ANY(%s) "
                                "AND pid <> pg_backend_pid() GROUP BY datname", [list(databases)]).fetchall()
            for name, count in rows:
                peak[databases[name]] = max(peak[databases[name]], count)
            peak["total"] = max(peak["total"], sum(count for _, count in rows))
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()
        conn.close()
