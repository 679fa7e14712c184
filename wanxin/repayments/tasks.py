"""Scheduled jobs of repayments (registered in wanxin/jobs.py). Each is idempotent, so
running it hourly does the nightly work once and catches up after a pause."""

from __future__ import annotations

import datetime as dt

from celery import current_task, group, shared_task
from django.utils import timezone

from . import services


def overdue_mark() -> dict[str, int]:
    """Mark periods past due + grace days OVERDUE and accrue penalty to date (set-based)."""
    return services.overdue_mark()


def auto_repay() -> dict[str, int]:
    """Repay due periods of borrowers who authorised REPAYMENT.

    Run by a Celery worker with ``REPAYMENT_AUTO_SHARDS`` = n > 1, it fans out n tasks
    (``auto_repay_shard``), each repaying the loans with ``project_id % n == i`` in
    whichever worker process takes it, and returns ``{"shards": n}``. Otherwise (the
    embedded scheduler, a direct call) the whole job runs here."""
    shards = services.auto_shards()
    if shards > 1 and current_task:
        today = timezone.localdate().isoformat()  # every shard repays the same day's periods
        group(auto_repay_shard.s(i, shards, today) for i in range(shards)).apply_async()
        return {"shards": shards}
    return services.auto_repay()


@shared_task(name="wanxin.repayments.auto_repay_shard")
def auto_repay_shard(index: int, count: int, today: str | None = None) -> dict[str, int]:
    """One shard of the automatic repayment job (see ``auto_repay``)."""
    return services.auto_repay(today=dt.date.fromisoformat(today) if today else None, shard=(index, count))


def remind() -> int:
    """SMS borrowers whose period falls due tomorrow."""
    return services.remind()
