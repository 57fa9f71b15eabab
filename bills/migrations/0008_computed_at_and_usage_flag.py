"""When a bill's amounts were last computed (its newest "created" or "updated" history row),
the dismissed "usage changed after sending" flag, and the "flag_dismissed" history action. The
append-only trigger is lifted around the constraint change and put back, as in 0005."""

import importlib

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

append_only = importlib.import_module("bills.migrations.0002_billaction_append_only")

COMPUTED_AT = """
UPDATE bills_bill SET computed_at = COALESCE(
    (SELECT MAX(a.created_at) FROM bills_billaction a
     WHERE a.bill_id = bills_bill.id AND a.action IN ('created', 'updated')),
    bills_bill.created_at
)
"""


def backfill_computed_at(apps, schema_editor):
    schema_editor.execute(COMPUTED_AT)


class Migration(migrations.Migration):

    dependencies = [
        ('bills', '0007_rebilled_action'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(append_only.backward, append_only.forward),
        migrations.RemoveConstraint(
            model_name='billaction',
            name='billaction_action_valid',
        ),
        migrations.AddField(
            model_name='bill',
            name='computed_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='bill',
            name='dismissed_usage',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='billaction',
            name='action',
            field=models.CharField(choices=[('created', 'Created'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('reverted', 'Reverted'), ('updated', 'Updated'), ('sent', 'Sent'), ('send_failed', 'Send failed'), ('voided', 'Voided'), ('rebilled', 'Re-billed'), ('flag_dismissed', 'Usage flag dismissed')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='billaction',
            constraint=models.CheckConstraint(condition=models.Q(('action__in', ['created', 'approved', 'rejected', 'reverted', 'updated', 'sent', 'send_failed', 'voided', 'rebilled', 'flag_dismissed'])), name='billaction_action_valid'),
        ),
        migrations.RunPython(backfill_computed_at, migrations.RunPython.noop),
        migrations.RunPython(append_only.forward, append_only.backward),
    ]
