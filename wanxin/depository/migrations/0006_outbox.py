from django.db import migrations, models

# A request written for the outbox wakes the senders (LISTEN wanxin_depository_outbox) when its
# transaction commits: PostgreSQL delivers a NOTIFY only on commit, and one per transaction and
# channel however many rows (decision record 0007).
NOTIFY = """
CREATE FUNCTION depository_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows WHERE outbox AND status = 'PENDING') THEN
        PERFORM pg_notify('wanxin_depository_outbox', '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER depository_outbox_notify AFTER INSERT ON depository_depositoryrequest
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION depository_outbox_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS depository_outbox_notify ON depository_depositoryrequest;
DROP FUNCTION IF EXISTS depository_outbox_notify();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('depository', '0005_status_labels'),
    ]

    operations = [
        migrations.AddField(
            model_name='depositoryrequest',
            name='batch_no',
            field=models.CharField(blank=True, db_default='', max_length=64),
        ),
        migrations.AddField(
            model_name='depositoryrequest',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='depositoryrequest',
            name='outbox',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddIndex(
            model_name='depositoryrequest',
            index=models.Index(condition=models.Q(('outbox', True), ('status', 'PENDING')), fields=['id'], name='dep_req_outbox_waiting'),
        ),
        migrations.RunSQL(NOTIFY, DROP),
    ]
