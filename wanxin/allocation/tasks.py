"""Scheduled jobs of allocation (registered in wanxin/jobs.py). Each is idempotent: a
charge happens once per (allocation, date) and a start once, however often they run."""

from __future__ import annotations

from . import services


def start_trading() -> int:
    """Approved allocations whose trading day has come go IN_PROGRESS."""
    return services.allocations_start()


def charge_fees() -> dict[str, int]:
    """Every due fee charge of running allocations; termination when a term is over."""
    return services.fees_charge().counts()
