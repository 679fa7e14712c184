"""``python manage.py outbox_sender``: a process of outbox senders (decision record 0007),
for deployments that run them apart from the web and Celery processes."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from wanxin.depository.outbox import senders_start


class Command(BaseCommand):
    help = "Send the outbox's requests to the bank as BATCHes whenever some are committed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--senders", type=int, default=None,
                            help="sender threads (default DEPOSITORY_OUTBOX_SENDERS)")

    def handle(self, *args, senders: int | None = None, **options) -> None:
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
        running = senders_start(senders)
        self.stdout.write(f"{len(running)} outbox sender(s) running", ending="\n")
        self.stdout.flush()
        stopping.wait()
        for sender in running:
            sender.stop()
        for sender in running:
            sender.join(5)
