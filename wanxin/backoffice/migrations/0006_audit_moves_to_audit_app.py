"""The audit log and the role grants now belong to ``wanxin.audit`` (state only: their
tables, rows and the append-only trigger stay as they are)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("backoffice", "0005_separate_duties"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="AuditLog"),
                migrations.DeleteModel(name="RoleGrant"),
            ],
        ),
    ]
