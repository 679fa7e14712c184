"""Celery for production: the same jobs as the embedded scheduler, on workers and beat."""

from __future__ import annotations

import os

from celery import Celery

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
