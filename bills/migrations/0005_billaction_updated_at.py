"""The seed's `updated_at` on bill history. A history row is never changed, so it equals
`created_at`: existing rows get their `created_at`.

The append-only triggers refuse that one UPDATE, so they are dropped around it and put back
(on SQLite, adding a column with a default also rebuilds the table, which drops its triggers:
putting them back afterwards covers that too).
"""

import importlib

import django.utils.timezone
from django.db import migrations, models

append_only = importlib.import_module("bills.migrations.0002_billaction_append_only")


def copy_created_at(apps, schema_editor):
    schema_editor.execute("UPDATE bills_billaction SET updated_at = created_at")


class Migration(migrations.Migration):
    dependencies = [("bills", "0004_bill_period_index_with_customer")]

    operations = [
        migrations.RunPython(append_only.backward, append_only.forward),
        migrations.AddField(
            model_name="billaction",
            name="updated_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(copy_created_at, migrations.RunPython.noop),
        migrations.RunPython(append_only.forward, append_only.backward),
    ]
