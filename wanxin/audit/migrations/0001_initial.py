"""The audit log and the role grants move from the back office to this app (state only).

Their tables keep their names (``db_table``), so nothing is copied and the append-only
trigger of ``backoffice`` migration 0002 keeps guarding ``backoffice_auditlog``."""

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("backoffice", "0005_separate_duties"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditLog",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("actor_username", models.CharField(blank=True, max_length=150)),
                        ("action", models.CharField(db_index=True, max_length=64)),
                        ("target_type", models.CharField(max_length=100)),
                        ("target_id", models.CharField(max_length=64)),
                        ("before", models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True)),
                        ("after", models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True)),
                        ("ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "backoffice_auditlog",
                        "ordering": ["-id"],
                        "indexes": [models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
                                    models.Index(fields=["actor", "-at"], name="audit_actor_at_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="RoleGrant",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("role", models.CharField(max_length=80)),
                        ("status", models.CharField(choices=[("PENDING", "Awaiting confirmation"), ("CONFIRMED", "Confirmed"), ("CANCELLED", "Cancelled")], default="PENDING", max_length=10)),
                        ("proposed_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("decided_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("operator", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="role_grants", to=settings.AUTH_USER_MODEL)),
                        ("proposed_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "backoffice_rolegrant",
                        "ordering": ["-id"],
                        "constraints": [models.UniqueConstraint(condition=models.Q(("status", "PENDING")), fields=("operator", "role"), name="rolegrant_one_pending"),
                                        models.CheckConstraint(condition=models.Q(("decided_by", models.F("proposed_by")), ("proposed_by__isnull", False), ("status", "CONFIRMED"), _negated=True), name="rolegrant_second_person")],
                    },
                ),
            ],
        ),
    ]
