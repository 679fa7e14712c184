"""The BATCH fast path as one PL/pgSQL function (wanxin/bank/sql/batch_items.sql)."""

from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "batch_items.sql").read_text()


class Migration(migrations.Migration):

    dependencies = [
        ('bank', '0003_statement_kind'),
    ]

    operations = [
        migrations.RunSQL(SQL, reverse_sql="DROP FUNCTION IF EXISTS bank_batch_items(text, jsonb)"),
    ]
