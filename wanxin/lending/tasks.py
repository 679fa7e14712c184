"""Scheduled jobs of lending (registered in wanxin/jobs.py)."""

from __future__ import annotations

from . import services


def miscarry_due() -> dict[str, int]:
    """Miscarry loans whose fundraising window closed unfilled; resume their refunds."""
    return services.miscarry_due()
