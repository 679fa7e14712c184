"""The platform's depository jobs."""

from __future__ import annotations

from . import idempotency, services


def idempotency_expire() -> int:
    """Delete submit keys older than a day (``idempotency.KEEP``)."""
    return idempotency.expire()


def recover_pending() -> dict[str, int]:
    return services.pending_recover()


def outbox_drain() -> dict[str, int]:
    """Send whatever waits in the outbox (the senders' safety net: they drain on NOTIFY)."""
    from . import outbox

    return outbox.drain()
