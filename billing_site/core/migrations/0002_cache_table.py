"""The shared cache's table (issue 12, "Limits and locks shared across processes and machines").

settings.CACHES uses Django's database cache in settings.CACHE_TABLE unless REDIS_URL is set, so
`migrate` creates that table everywhere the app runs (make run, the tests' database, docker):
nobody has to remember `createcachetable`. It is Django's own command making its own table, so
the columns are the ones DatabaseCache expects; a table that already exists is left as it is.
"""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    """CREATE TABLE settings.CACHE_TABLE (cache_key, value, expires) unless it exists."""
    call_command(
        "createcachetable",
        settings.CACHE_TABLE,
        database=schema_editor.connection.alias,
        verbosity=0,
    )


def drop_cache_table(apps, schema_editor):
    """DROP the table (migrating back past this one); cached values are lost, nothing else."""
    quoted = schema_editor.quote_name(settings.CACHE_TABLE)
    schema_editor.execute(f"DROP TABLE IF EXISTS {quoted}")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_worker_heartbeat")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table, elidable=False)]
