"""Formatting shared by every page: compact counts, percentages, months, money, ages."""

from __future__ import annotations

import calendar
from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.timesince import timesince

from billing_site.core.money import format_money, format_unit_cost, with_currency

register = template.Library()

_UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k"))


@register.filter
def compact(value) -> str:
    """1_500_000 -> "1.5M"; small numbers as they are."""
    if value is None or value == "":
        return "–"
    number = int(value)
    for size, suffix in _UNITS:
        if abs(number) >= size:
            text = f"{number / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return str(number)


@register.filter
def percent_of(value, total) -> int:
    """Whole percent of value in total (0 when there is nothing to compare with)."""
    value = int(value or 0)
    total = int(total or 0)
    if total <= 0:
        return 100 if value > 0 else 0
    return round(value * 100 / total)


@register.filter
def month_short(value) -> str:
    """A bill, a usage month or "2026-10" as "Oct 2026": what people scan for in a list."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        year, month = (int(part) for part in value.split("-"))
    else:
        year, month = value.year, value.month
    return f"{calendar.month_abbr[month]} {year}"


# The usage meter: the track runs to 125% of the limit, so the limit sits at 80% of its width
# and an overage shows as a red stretch past the limit mark instead of an ordinary full bar.
METER_SCALE = 125


@register.filter
def meter(percent) -> dict:
    """Widths (in % of the track) of the part within the limit and the part above it."""
    percent = max(0, int(percent or 0))
    within = min(percent, 100) * 100 / METER_SCALE
    above = (min(percent, METER_SCALE) - 100) * 100 / METER_SCALE if percent > 100 else 0
    return {
        "within": round(within, 1),
        "above": round(above, 1),
        "limit_at": round(100 * 100 / METER_SCALE, 1),
        "clipped": percent > METER_SCALE,
    }


@register.filter
def money(value, currency: str | None = None) -> str:
    """An amount with its currency, two decimals, thousands separators: 1234.5 -> "USD 1,234.50"
    ({{ amount|money:bill.currency }}; without an argument, settings.CURRENCY)."""
    if value is None or value == "":
        return "–"
    return with_currency(format_money(Decimal(value)), currency)


@register.filter
def price(value, currency: str | None = None) -> str:
    """A price per call with its currency, without padding zeros: 0.002500 -> "USD 0.0025"."""
    if value is None or value == "":
        return "–"
    return with_currency(format_unit_cost(Decimal(value)), currency)


@register.filter
def unit_cost(value) -> str:
    """A price per call without trailing zeros, at least two decimals: 0.002500 -> "0.0025"."""
    if value is None or value == "":
        return "–"
    return format_unit_cost(Decimal(value))


@register.filter
def age(value) -> str:
    """How long ago, to one unit: "3 days"."""
    if not value:
        return ""
    text = timesince(value, depth=1)
    return "just now" if text.startswith("0\xa0") or text.startswith("0 ") else text


@register.filter
def exact(value) -> str:
    """An exact decimal without trailing zeros past the cents: 1.002500 -> "1.0025"."""
    return intcomma(unit_cost(value))


@register.filter
def ago(value) -> str:
    """ "3 days ago", or "just now"."""
    text = age(value)
    return text if text in ("", "just now") else f"{text} ago"
