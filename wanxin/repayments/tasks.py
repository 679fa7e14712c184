"""Scheduled jobs of repayments (registered in wanxin/jobs.py). Each is idempotent, so
running it hourly does the nightly work once and catches up after a pause."""

from __future__ import annotations

from . import services


def overdue_mark() -> dict[str, int]:
    """Mark periods past due + grace days OVERDUE and accrue penalty to date (set-based)."""
    return services.overdue_mark()


def auto_repay() -> dict[str, int]:
    """Repay due periods of borrowers who authorised REPAYMENT."""
    return services.auto_repay()


def remind() -> int:
    """SMS borrowers whose period falls due tomorrow."""
    return services.remind()
