"""The customer change history refuses to be emptied (TRUNCATE on PostgreSQL, DELETE on SQLite)
outside a maintenance session (billing_site.core.maintenance); 0005 refuses UPDATE and row
DELETE."""

from django.db import migrations

from billing_site.core.maintenance import refuse_emptying

EMPTYING = refuse_emptying("customers_historicalcustomer", "customers_historicalcustomerterms")


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_terms_versions_and_history")]

    operations = [migrations.RunPython(*EMPTYING)]
