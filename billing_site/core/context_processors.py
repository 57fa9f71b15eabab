"""What every template may show: the currency of every amount (settings.CURRENCY)."""

from django.conf import settings


def currency(request) -> dict[str, str]:
    return {"CURRENCY": settings.CURRENCY}
