"""The database itself refuses to change or delete an audit row."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION backoffice_auditlog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'backoffice_auditlog rows are append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER backoffice_auditlog_append_only BEFORE UPDATE OR DELETE ON backoffice_auditlog
    FOR EACH ROW EXECUTE FUNCTION backoffice_auditlog_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS backoffice_auditlog_append_only ON backoffice_auditlog;
DROP FUNCTION IF EXISTS backoffice_auditlog_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
