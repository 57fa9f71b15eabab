"""The database itself refuses to edit bill history (and, on PostgreSQL, to delete it).

SQLite gets the UPDATE guard only: Django's test flush empties tables with DELETE there, while
PostgreSQL's flush uses TRUNCATE, which row triggers do not see.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION bills_billaction_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'bill history is append-only: % on bills_billaction is refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bills_billaction_no_update BEFORE UPDATE ON bills_billaction
    FOR EACH ROW EXECUTE FUNCTION bills_billaction_append_only();
CREATE TRIGGER bills_billaction_no_delete BEFORE DELETE ON bills_billaction
    FOR EACH ROW EXECUTE FUNCTION bills_billaction_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS bills_billaction_no_update ON bills_billaction;
DROP TRIGGER IF EXISTS bills_billaction_no_delete ON bills_billaction;
DROP FUNCTION IF EXISTS bills_billaction_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER bills_billaction_no_update BEFORE UPDATE ON bills_billaction
BEGIN
    SELECT RAISE(ABORT, 'bill history is append-only: UPDATE on bills_billaction is refused');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS bills_billaction_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    # params=None: the SQL is sent as is, so the "%" placeholders of RAISE reach PL/pgSQL
    # instead of being read as driver placeholders.
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("bills", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
