"""The BATCH fast path runs CONFIRM_REPAYMENT too (an automatic repayment run's
confirmations): wanxin/bank/sql/batch_items.sql again."""

from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "batch_items.sql").read_text()


class Migration(migrations.Migration):

    dependencies = [
        ('bank', '0005_batch_plain_transfers'),
    ]

    operations = [
        migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop),
    ]
