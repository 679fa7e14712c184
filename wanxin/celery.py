"""Celery for production: the same jobs as the embedded scheduler, on workers and beat."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wanxin.settings")

app = Celery("wanxin")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task(name="wanxin.run_job")
def run_job(target: str) -> object:
    module, _, attr = target.rpartition(".")
    return getattr(__import__(module, fromlist=[attr]), attr)()


@app.on_after_finalize.connect
def schedule_jobs(sender: Celery, **kwargs: object) -> None:
    from wanxin.jobs import jobs

    for job in jobs():
        sender.add_periodic_task(job.every_seconds, run_job.s(job.target), name=job.name)


@worker_process_init.connect
def start_outbox_senders(**kwargs: object) -> None:
    """Every worker process also runs ``DEPOSITORY_OUTBOX_SENDERS`` outbox sender threads
    (decision record 0007): any number of them at once share the work without sending a
    request twice. ``python manage.py outbox_sender`` runs them as a process of their own."""
    from django.conf import settings

    if settings.SERVES_PLATFORM and settings.DEPOSITORY_OUTBOX_SENDERS > 0:
        from wanxin.depository.outbox import senders_start

        senders_start()
