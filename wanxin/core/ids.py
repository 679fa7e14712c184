"""Request and object numbers: sortable by time, unique without coordination."""

from __future__ import annotations

import secrets
import time


def new_request_no(prefix: str = "R") -> str:
    """A protocol requestNo: ``<prefix><ms since epoch><12 hex random>`` (≤ 64 chars)."""
    return f"{prefix}{int(time.time() * 1000)}{secrets.token_hex(6)}"
