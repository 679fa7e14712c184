"""Operator roles as groups holding the named back-office permissions (roles.py)."""

from django.db import migrations


def forward(apps, schema_editor):
    from wanxin.backoffice.services import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_auditlog_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
