"""Extended statistics on the Beijing month of a record, so the planner knows a customer's
records fall into a few dozen months and groups the statistics view with a small hash
aggregate instead of sorting every row (PostgreSQL 14+). The expression must match the
one TruncMonth(created_at, Asia/Shanghai) generates."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql="CREATE STATISTICS IF NOT EXISTS funds_record_month "
            "ON (date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai')) FROM funds_fundrecord",
            reverse_sql="DROP STATISTICS IF EXISTS funds_record_month",
        ),
    ]
