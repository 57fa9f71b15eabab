"""A money column that is exact on every database the product runs on.

PostgreSQL keeps NUMERIC exactly. SQLite gives a NUMERIC column REAL storage, which keeps 15
significant digits, and Django reads decimals back through a float: an amount of 27 integer
digits would come back wrong. On SQLite this field stores the canonical decimal text instead
and reads it back exactly; on PostgreSQL it is the usual NUMERIC(max_digits, decimal_places).
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from django.db import models


class MoneyField(models.DecimalField):
    """DecimalField, exact on SQLite too (text there). Sums on SQLite are made in Python
    (core.money.money_total); SQLite's own SUM would go through floats."""

    def get_internal_type(self) -> str:
        # Not "DecimalField": SQLite's backend would read every value back through a float.
        return "MoneyField"

    def db_type(self, connection) -> str:
        if connection.vendor == "sqlite":
            return "text"
        return f"numeric({self.max_digits}, {self.decimal_places})"

    def from_db_value(self, value, expression, connection):
        if value is None or isinstance(value, Decimal):
            return value
        with localcontext(prec=self.max_digits + 10):  # the default 28 digits are too few
            return Decimal(str(value)).quantize(Decimal(1).scaleb(-self.decimal_places))


def money_order(name: str, *, descending: bool = False) -> list:
    """order_by() terms that sort a MoneyField numerically on PostgreSQL and SQLite alike: by
    the length of its canonical text (no sign, fixed decimals), then by the text itself."""
    from django.db.models import CharField
    from django.db.models.functions import Cast, Length

    text = Cast(name, output_field=CharField())
    terms = [Length(text), text]
    return [t.desc() if descending else t.asc() for t in terms]
