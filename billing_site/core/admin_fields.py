"""The admin reads numbers by the same rules as the pages: `formfield_overrides` for every
ModelAdmin and inline that edits a count or an amount.

Django's admin would otherwise read a BigIntegerField with forms.IntegerField, which takes
"250.000" (250 thousand, typed on a German keyboard) as 250, "１２" as 12 and "+5" as 5, and a
DecimalField with forms.DecimalField, which takes "1e3" and answers "Enter a number." to
"0,0025" without saying what was wrong.
"""

from __future__ import annotations

from django.db import models

from billing_site.core.decimals import DecimalTextFormField
from billing_site.core.numbers import WholeNumberFormField

# Keyed by the classes the admin's own defaults name (its lookup takes the first class of a
# field's MRO that has an entry, and merges ours into its widget choice).
NUMBER_FIELD_OVERRIDES = {
    models.BigIntegerField: {"form_class": WholeNumberFormField},
    models.IntegerField: {"form_class": WholeNumberFormField},
    models.SmallIntegerField: {"form_class": WholeNumberFormField},
    models.DecimalField: {"form_class": DecimalTextFormField},
}
