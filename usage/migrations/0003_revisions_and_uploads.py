"""Usage revisions (append-only: the database refuses to edit them and, on PostgreSQL, to delete
them, as bills/migrations/0002 does for bill history) and the uploads waiting for a Confirm.

SQLite gets the UPDATE guard only: Django's test flush empties tables with DELETE there, while
PostgreSQL's flush uses TRUNCATE, which row triggers do not see.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION usage_usagerevision_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'usage revisions are append-only: % on usage_usagerevision is refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER usage_usagerevision_no_update BEFORE UPDATE ON usage_usagerevision
    FOR EACH ROW EXECUTE FUNCTION usage_usagerevision_append_only();
CREATE TRIGGER usage_usagerevision_no_delete BEFORE DELETE ON usage_usagerevision
    FOR EACH ROW EXECUTE FUNCTION usage_usagerevision_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS usage_usagerevision_no_update ON usage_usagerevision;
DROP TRIGGER IF EXISTS usage_usagerevision_no_delete ON usage_usagerevision;
DROP FUNCTION IF EXISTS usage_usagerevision_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER usage_usagerevision_no_update BEFORE UPDATE ON usage_usagerevision
BEGIN
    SELECT RAISE(ABORT, 'usage revisions are append-only: UPDATE on usage_usagerevision is refused');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS usage_usagerevision_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    # params=None: the SQL is sent as is, so the "%" placeholder of RAISE reaches PL/pgSQL
    # instead of being read as a driver placeholder.
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

    dependencies = [
        ('usage', '0002_usage_period_index_with_customer'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='UsageUpload',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('file_name', models.CharField(max_length=255)),
                ('rows', models.JSONField()),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('confirmed_at', models.DateTimeField(blank=True, null=True)),
                ('result', models.JSONField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='usage_uploads', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='UsageRevision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('old_value', models.BigIntegerField(blank=True, null=True)),
                ('new_value', models.BigIntegerField()),
                ('source', models.CharField(choices=[('page', 'the record page'), ('csv', 'a CSV upload'), ('api', 'the API'), ('admin', 'the admin'), ('command', 'import_usage')], max_length=16)),
                ('file_name', models.CharField(blank=True, max_length=255)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('usage', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='revisions', to='usage.usage')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='usage_revisions', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['usage', '-created_at', '-id'], name='usage_revision_newest_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('source__in', ['page', 'csv', 'api', 'admin', 'command'])), name='usage_revision_source_valid'), models.CheckConstraint(condition=models.Q(('new_value__gte', 0)), name='usage_revision_not_negative')],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
