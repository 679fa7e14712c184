"""Helpers shared by the test suites (imported only from tests)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections


def at_once(func: Callable[[], Any], copies: int) -> list[Any]:
    """Run ``func`` on ``copies`` threads released together; each outcome is what it returned
    or the exception it raised, in the order they finished. Each thread closes its database
    connections, so the test database can be dropped afterwards."""
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
