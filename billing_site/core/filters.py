"""Filter pieces every list shares (django-filter): 64-bit ids, years, months, YYYY-MM periods,
and the one way a FilterSet is applied for the API (a bad value is a 400 naming the parameter)
and for a page (a bad value is dropped and shown on its field).

Each app's FilterSet (bills/filters.py, usage/filters.py, customers/filters.py) is shared by its
page, its API list and its CSV export.
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from billing_site.core import periods

MAX_ID = 2**63 - 1
_PERIOD = re.compile(r"(\d{4})-(\d{2})")


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number from 1 to 2^63-1, so PostgreSQL never sees one out of range."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", periods.MIN_YEAR)
        kwargs.setdefault("max_value", periods.MAX_YEAR)
        super().__init__(*args, **kwargs)


class MonthFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 12)
        super().__init__(*args, **kwargs)


class PeriodField(forms.CharField):
    """A month as YYYY-MM -> (year, month)."""

    default_error_messages = {"invalid": "Enter a month as YYYY-MM, e.g. 2026-10."}

    def to_python(self, value: Any) -> tuple[int, int] | None:
        value = super().to_python(value)
        if not value:
            return None
        match = _PERIOD.fullmatch(value.strip())
        if not match or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        year = int(match[1])
        if not periods.MIN_YEAR <= year <= periods.MAX_YEAR:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return year, int(match[2])


class PeriodFilter(django_filters.Filter):
    """`YYYY-MM`: rows of that month. With lookup_expr "gte"/"lte", from or up to that month
    (inclusive). The model needs `year` and `month` columns (behind `field_name`'s prefix)."""

    field_class = PeriodField

    def filter(self, qs: QuerySet, value: tuple[int, int] | None) -> QuerySet:
        if not value:
            return qs
        year, month = value
        prefix = f"{self.field_name}__" if self.field_name else ""
        y, m = f"{prefix}year", f"{prefix}month"
        if self.lookup_expr == "gte":
            condition = Q(**{f"{y}__gt": year}) | Q(**{y: year, f"{m}__gte": month})
        elif self.lookup_expr == "lte":
            condition = Q(**{f"{y}__lt": year}) | Q(**{y: year, f"{m}__lte": month})
        else:
            condition = Q(**{y: year, m: month})
        return qs.filter(condition)


def filter_for_api(filterset_class: type[django_filters.FilterSet], request, queryset: QuerySet):
    """The queryset filtered by the request's query string; a bad value raises DRF's
    ValidationError (a 400 `{"param": ["message"]}`). Parameters the FilterSet does not name
    are ignored."""
    filterset = filterset_class(data=request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def filter_for_page(filterset_class: type[django_filters.FilterSet], request, queryset: QuerySet):
    """(filterset, filtered queryset) for a page: a value that does not parse is left out of
    the filtering and shown as an error on its field, never an error page."""
    filterset = filterset_class(data=request.GET, queryset=queryset, request=request)
    filterset.is_valid()
    return filterset, filterset.qs
