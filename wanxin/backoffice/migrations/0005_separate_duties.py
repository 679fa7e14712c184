"""Separation of duties: the super admin loses its money (and maker) permissions, the
declared money permissions are created, and every operator already holding a role that now
needs a second administrator gets a grant record confirmed by the system, so the grant
history is complete from here on."""

from django.db import migrations
from django.utils import timezone


def forward(apps, schema_editor):
    from wanxin.audit import roles
    from wanxin.backoffice.services import roles_sync

    roles_sync(apps)
    user_model = apps.get_model("accounts", "User")
    grant_model = apps.get_model("backoffice", "RoleGrant")
    now = timezone.now()
    for role in roles.ROLES:
        if not roles.role_needs_confirmation(role):
            continue
        for user_id in user_model.objects.filter(groups__name=role).order_by("pk").values_list("pk", flat=True):
            grant_model.objects.create(operator_id=user_id, role=role, status="CONFIRMED", proposed_at=now,
                                       decided_at=now)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0004_rolegrant"),
        ("accounts", "0003_user_created_by"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
