"""Scheduled job of reconciliation (registered in wanxin/jobs.py)."""

from __future__ import annotations

import logging

from wanxin.core.errors import WanxinError

from . import services

log = logging.getLogger("wanxin.reconciliation")


def reconcile_yesterday() -> str:
    """Reconcile yesterday once it can be; a refusal (bank down, file refused) is logged and
    tried again at the next run, nothing recorded meanwhile."""
    try:
        day = services.yesterday_reconcile()
    except WanxinError as exc:
        log.warning("reconciliation of yesterday refused: %s", exc.message)
        return "refused"
    return "done" if day is not None else "already"
