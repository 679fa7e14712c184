"""Scheduled job of the audit log (registered in wanxin/jobs.py)."""

from __future__ import annotations

from . import chain


def verify_chain() -> str:
    """Walk the hash chain; a break is logged as an error and shown on the audit page."""
    verdict = chain.verify_and_remember()
    return "intact" if verdict.ok else f"broken at row {verdict.broken.row_id}"
