"""The "rebilled" history action. On SQLite, changing a check constraint rebuilds the table,
which drops the append-only trigger: it is lifted first and put back last, as in 0005."""

import importlib

from django.conf import settings
from django.db import migrations, models

append_only = importlib.import_module("bills.migrations.0002_billaction_append_only")


class Migration(migrations.Migration):

    dependencies = [
        ('bills', '0006_invoices_and_credit_notes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(append_only.backward, append_only.forward),
        migrations.RemoveConstraint(
            model_name='billaction',
            name='billaction_action_valid',
        ),
        migrations.AlterField(
            model_name='billaction',
            name='action',
            field=models.CharField(choices=[('created', 'Created'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('reverted', 'Reverted'), ('updated', 'Updated'), ('sent', 'Sent'), ('send_failed', 'Send failed'), ('voided', 'Voided'), ('rebilled', 'Re-billed')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='billaction',
            constraint=models.CheckConstraint(condition=models.Q(('action__in', ['created', 'approved', 'rejected', 'reverted', 'updated', 'sent', 'send_failed', 'voided', 'rebilled'])), name='billaction_action_valid'),
        ),
        migrations.RunPython(append_only.forward, append_only.backward),
    ]
