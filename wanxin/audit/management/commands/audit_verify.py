"""``manage.py audit_verify``: walk the audit log's hash chain; exit non-zero naming the first
row edited, deleted or inserted behind the append-only trigger's back."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from wanxin.audit import chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; name the first edited, deleted or inserted row."

    def handle(self, *args, **options):
        verdict = chain.verify_and_remember()
        if not verdict.ok:
            broken = verdict.broken
            raise CommandError(f"audit log chain broken at row {broken.row_id} ({broken.kind}): {broken.detail}; "
                               f"{verdict.rows} rows read")
        self.stdout.write(f"audit log chain intact: {verdict.rows} rows, head {verdict.head}")
