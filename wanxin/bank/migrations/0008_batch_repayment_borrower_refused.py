"""A CONFIRM_REPAYMENT item that lists the borrower among the investors is refused (30020)
on the BATCH fast path too: wanxin/bank/sql/batch_items.sql again."""

from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "batch_items.sql").read_text()


class Migration(migrations.Migration):

    dependencies = [
        ('bank', '0007_batch_items_without_subtransactions'),
    ]

    operations = [
        migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop),
    ]
