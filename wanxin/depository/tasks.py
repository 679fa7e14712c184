"""The platform's depository jobs."""

from __future__ import annotations

from . import services


def recover_pending() -> dict[str, int]:
    return services.pending_recover()
