"""The BATCH fast path runs plain TRANSFERs from a customer to a platform account too (the
allocation fee run's charges): wanxin/bank/sql/batch_items.sql again."""

from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "batch_items.sql").read_text()


class Migration(migrations.Migration):

    dependencies = [
        ('bank', '0004_batch_items_function'),
    ]

    operations = [
        migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop),
    ]
