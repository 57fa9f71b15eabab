"""SQLite only: put back bill history's guards that 0014 lost.

On SQLite, Django alters a table by making a new one and copying the rows over, which drops
the table's triggers; 0014's change of bills_billaction's action constraint did that, so since
then SQLite (the `make run` database) let a history row be edited or deleted. PostgreSQL keeps
triggers through ALTER TABLE and is untouched. tests/test_migrations_sqlite.py now migrates a
fresh SQLite database and checks every guard is there, so a later migration cannot lose one
unseen.
"""

import importlib

from django.db import migrations

from billing_site.core.maintenance import refuse_emptying

append_only = importlib.import_module("bills.migrations.0002_billaction_append_only")
EMPTYING = refuse_emptying("bills_billaction")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(append_only.SQLITE_BACKWARD, params=None)
    schema_editor.execute(append_only.SQLITE_FORWARD, params=None)
    EMPTYING[1](apps, schema_editor)
    EMPTYING[0](apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("bills", "0017_bill_tally")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
