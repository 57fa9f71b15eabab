"""Each history row keeps its stakeholder's name and role as they were (SPEC "BillAction"),
backfilled from the users as they are now; and bill history and payments refuse to be emptied
(TRUNCATE on PostgreSQL, DELETE on SQLite) outside a maintenance session
(billing_site.core.maintenance).

The append-only triggers of 0002 are lifted around the backfill and put back, as in 0005.
"""

import importlib

from django.db import migrations, models

from billing_site.core.maintenance import refuse_emptying

append_only = importlib.import_module("bills.migrations.0002_billaction_append_only")
EMPTYING = refuse_emptying("bills_billaction", "bills_payment")

BACKFILL = """
UPDATE bills_billaction SET
    stakeholder_name = (SELECT u.name FROM accounts_user u WHERE u.id = bills_billaction.stakeholder_id),
    stakeholder_role = (SELECT u.role FROM accounts_user u WHERE u.id = bills_billaction.stakeholder_id)
"""


def backfill(apps, schema_editor):
    schema_editor.execute(BACKFILL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("bills", "0012_bill_version"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(append_only.backward, append_only.forward),
        migrations.AddField(
            model_name="billaction",
            name="stakeholder_name",
            field=models.CharField(default="", max_length=150),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="billaction",
            name="stakeholder_role",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="billaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("stakeholder_name", ""), _negated=True),
                    models.Q(("stakeholder_role", ""), _negated=True),
                ),
                name="billaction_stakeholder_named",
            ),
        ),
        migrations.RunPython(append_only.forward, append_only.backward),
        migrations.RunPython(*EMPTYING),
    ]
