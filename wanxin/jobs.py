"""Periodic jobs of each role, shared by the embedded scheduler thread and Celery beat."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger("wanxin.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    target: str  # dotted path: imported lazily so each role loads only its own code

    def func(self) -> Callable[[], object]:
        module, _, attr = self.target.rpartition(".")
        return getattr(__import__(module, fromlist=[attr]), attr)


def jobs() -> list[Job]:
    found = []
    if settings.SERVES_BANK:
        found += [
            Job("bank.deliver_notifications", 2, "wanxin.bank.tasks.deliver_notifications"),
            Job("bank.expire_gateway_requests", 60, "wanxin.bank.tasks.expire_gateway_requests"),
            Job("bank.close_day", 600, "wanxin.bank.tasks.close_day"),
        ]
    if settings.SERVES_PLATFORM:
        found.append(Job("depository.recover_pending", 30, "wanxin.depository.tasks.recover_pending"))
        # The outbox senders drain on NOTIFY (decision record 0007); this is their safety net.
        found.append(Job("depository.outbox_drain", 60, "wanxin.depository.tasks.outbox_drain"))
        found.append(Job("lending.miscarry_due", 60, "wanxin.lending.tasks.miscarry_due"))
        found.append(Job("repayments.overdue_mark", 3600, "wanxin.repayments.tasks.overdue_mark"))
        found.append(Job("repayments.auto_repay", 3600, "wanxin.repayments.tasks.auto_repay"))
        found.append(Job("repayments.remind", 3600, "wanxin.repayments.tasks.remind"))
        found.append(Job("allocation.start_trading", 300, "wanxin.allocation.tasks.start_trading"))
        found.append(Job("allocation.charge_fees", 600, "wanxin.allocation.tasks.charge_fees"))
        found.append(Job("reconciliation.reconcile_yesterday", 3600,
                         "wanxin.reconciliation.tasks.reconcile_yesterday"))
        found.append(Job("audit.verify_chain", 3600, "wanxin.audit.tasks.verify_chain"))
        found.append(Job("depository.idempotency_expire", 3600, "wanxin.depository.tasks.idempotency_expire"))
    return found


class Scheduler(threading.Thread):
    """Runs every job at its interval on one daemon thread (embedded mode only)."""

    def __init__(self) -> None:
        super().__init__(name="wanxin-scheduler", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        due = {job.name: 0.0 for job in jobs()}
        table = {job.name: job for job in jobs()}
        while not self.stopping.is_set():
            now = time.monotonic()
            for name, at in due.items():
                if at <= now:
                    try:
                        table[name].func()()
                    except Exception:
                        log.exception("job %s failed", name)
                    finally:
                        close_old_connections()
                    due[name] = time.monotonic() + table[name].every_seconds
            self.stopping.wait(0.5)

    def stop(self) -> None:
        self.stopping.set()
