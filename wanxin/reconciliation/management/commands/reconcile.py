"""``manage.py reconcile --date YYYY-MM-DD``: reconcile one past business day with the bank
(the daily job does yesterday; this reruns any open day)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from wanxin.audit.guards import SYSTEM
from wanxin.core.errors import WanxinError
from wanxin.reconciliation import selectors, services


class Command(BaseCommand):
    help = "Reconcile a past business day: the bank's statement and balance file against the platform's records."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="the business day, YYYY-MM-DD")

    def handle(self, *args, **options):
        try:
            day = dt.date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {options['date']!r}") from exc
        try:
            recon = services.day_reconcile(day=day, actor=SYSTEM)
        except WanxinError as exc:
            raise CommandError(exc.message) from exc
        summary = selectors.day_summary(recon)
        self.stdout.write(f"{day}: {recon.statement_rows} statement rows, {recon.matched} matched, "
                          f"{recon.balance_rows} balances")
        for _kind, label, count in summary.by_kind:
            if count:
                self.stdout.write(f"  {label}: {count}")
        self.stdout.write(f"open differences: {summary.open}")
