"""Usage revisions refuse to be emptied (TRUNCATE on PostgreSQL, DELETE on SQLite) outside a
maintenance session (billing_site.core.maintenance); 0003 refuses UPDATE and row DELETE."""

from django.db import migrations

from billing_site.core.maintenance import refuse_emptying

EMPTYING = refuse_emptying("usage_usagerevision")


class Migration(migrations.Migration):
    dependencies = [("usage", "0003_revisions_and_uploads")]

    operations = [migrations.RunPython(*EMPTYING)]
