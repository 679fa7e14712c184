"""The platform's depository jobs."""

from __future__ import annotations

from . import services


def recover_pending() -> dict[str, int]:
    return services.pending_recover()


def outbox_drain() -> dict[str, int]:
    """Send whatever waits in the outbox (the senders' safety net: they drain on NOTIFY)."""
    from . import outbox

    return outbox.drain()
