"""Money as the whole product writes it: Decimal throughout, rounded half-up to cents, and
formatted one way on pages, invoices, emails and PDFs (SPEC "Data": Money)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.conf import settings

CENT = Decimal("0.01")
# 64-bit usage times a 14-digit price needs ~33 significant digits; the default context has 28.
PRECISION = 60


def round_to_cents(amount: Decimal) -> Decimal:
    """Half-up to two places, exactly (Decimal in, Decimal out): 0.125 -> 0.13."""
    with localcontext(prec=PRECISION):
        return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Two decimals with thousands separators: Decimal("1234.5") -> "1,234.50"."""
    with localcontext(prec=PRECISION):
        return f"{Decimal(amount):,.2f}"


def format_unit_cost(cost: Decimal) -> str:
    """A price per call without the padding zeros of its 6 places, at least two decimals:
    Decimal("0.002500") -> "0.0025", Decimal("2") -> "2.00"."""
    text = f"{Decimal(cost):f}"
    if "." not in text:
        return f"{text}.00"
    whole, fraction = text.split(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def with_currency(text: str, currency: str | None = None) -> str:
    """An amount already formatted, with its ISO 4217 code before it (a no-break space between):
    "1,234.50" -> "USD 1,234.50". The code is `currency`, else settings.CURRENCY."""
    return f"{currency or settings.CURRENCY}\u00a0{text}"


def money_totals(queryset, *, key: str, amount: str) -> dict[object, tuple[int, Decimal]]:
    """{value of `key`: (row count, exact total of `amount`)} over `queryset`, in one query.

    PostgreSQL adds NUMERIC exactly. SQLite's SUM goes through floating point (15 significant
    digits), so there the rows' exact amounts (core.fields.MoneyField) are added in Python.
    """
    return {
        value: (count, sums[0])
        for value, (count, sums) in money_totals_of(queryset, key=key, amounts=(amount,)).items()
    }


def money_totals_of(
    queryset, *, key: str | tuple[str, ...], amounts: tuple[str, ...]
) -> dict[object, tuple[int, tuple[Decimal, ...]]]:
    """{value of `key`: (row count, (exact total of each of `amounts`, in order))} over
    `queryset`, in one query; exact on PostgreSQL and SQLite as money_totals is. A tuple of
    field names groups by all of them: its values are tuples, e.g. (2026, 11, "draft")."""
    from django.db import connections
    from django.db.models import Count, Sum

    queryset = queryset.order_by()
    keys = key if isinstance(key, tuple) else (key,)
    zero = Decimal("0")

    def group(values) -> object:
        return tuple(values) if isinstance(key, tuple) else values[0]

    if connections[queryset.db].vendor != "sqlite":
        sums = {f"total_{i}": Sum(name) for i, name in enumerate(amounts)}
        rows = queryset.values(*keys).annotate(n=Count("pk"), **sums)
        return {
            group([row[k] for k in keys]): (
                row["n"],
                tuple(row[f"total_{i}"] or zero for i in range(len(amounts))),
            )
            for row in rows
        }
    totals: dict[object, tuple[int, tuple[Decimal, ...]]] = {}
    with localcontext(prec=PRECISION):
        for row in queryset.values_list(*keys, *amounts).iterator(chunk_size=5000):
            value, each = group(row[: len(keys)]), row[len(keys) :]
            count, total = totals.get(value, (0, (zero,) * len(amounts)))
            totals[value] = (
                count + 1,
                tuple(t + (e or zero) for t, e in zip(total, each, strict=True)),
            )
    return totals
