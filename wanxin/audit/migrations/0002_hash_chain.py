"""Every audit row carries the hash of the row before it and its own (``chain``); the rows
already written are chained here, in id order, with the append-only trigger set aside for
this one transaction (the trigger is back before the migration commits)."""

from django.db import migrations, models

TABLE, TRIGGER = "backoffice_auditlog", "backoffice_auditlog_append_only"


def chain_existing(apps, schema_editor):
    from wanxin.audit import chain

    audit_log = apps.get_model("audit", "AuditLog")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chain.CHAIN_LOCK])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
        prev = chain.GENESIS
        for row in audit_log.objects.order_by("id").iterator(chunk_size=2000):
            digest = chain.row_hash(chain.fields_of(row), prev)
            audit_log.objects.filter(pk=row.pk).update(prev_hash=prev, row_hash=digest)
            prev = digest
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check may be pending at ALTER TABLE
        cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("backoffice", "0006_audit_moves_to_audit_app"),
    ]

    operations = [
        migrations.AddField(model_name="auditlog", name="prev_hash", field=models.CharField(default="", max_length=64),
                            preserve_default=False),
        migrations.AddField(model_name="auditlog", name="row_hash", field=models.CharField(default="", max_length=64),
                            preserve_default=False),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AddConstraint(model_name="auditlog",
                                 constraint=models.UniqueConstraint(fields=["prev_hash"], name="audit_chain_one_successor")),
    ]
