"""Helpers shared by the test suites (imported only from tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
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
