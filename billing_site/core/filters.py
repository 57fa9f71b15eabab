"""Filter pieces every list shares (django-filter): 64-bit ids, years and months (ASCII digits,
read by core.numbers), YYYY-MM periods, names, yes/no, choices and named sort orders, and the
one way a FilterSet is applied for the API (a bad value is a 400 naming the parameter) and for
a page (a bad value is dropped and shown on its field).

Each app's FilterSet (bills/filters.py, usage/filters.py, customers/filters.py) is shared by its
page, its API list and its CSV export. Every filter here says what the OpenAPI document shows for
its query parameter: drf-spectacular reads it from a view with `filter_backends =
[FilterSetBackend]` and a `filterset_class`. `description=` is for that document only; the
page's form shows the label (and `help_text`, if given).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlencode

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.plumbing import build_choice_description_list
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from billing_site.core import numbers, periods
from billing_site.core.numbers import WholeNumberFormField

MAX_ID = numbers.MAX_INT64
MAX_TEXT = 200


class Documented:
    """Mixin for a filter: `openapi_schema()` (plus `description=`) is what the OpenAPI document
    says about its query parameter, however the model field behind it is typed."""

    def __init__(self, *args, description: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        schema = self.openapi_schema()
        description = description or self.extra.get("help_text") or schema.pop("description", "")
        extend_schema_field({**schema, "description": description} if description else schema)(self)

    def openapi_schema(self) -> dict[str, Any]:
        raise NotImplementedError


def _bounds(extra: Mapping[str, Any]) -> dict[str, int]:
    return {
        key: extra[name]
        for key, name in (("minimum", "min_value"), ("maximum", "max_value"))
        if extra.get(name) is not None
    }


class WholeNumberFilter(Documented, django_filters.NumberFilter):
    """A whole number in the query string: ASCII digits only (core.numbers.parse_text), so
    "2026.0", "1e3", "+5", " 5", "５" and "true" are refused where Django's IntegerField reads
    "2026.0" as 2026. A parameter given empty (`?year=`) is refused too; leave it out for no
    filter. Subclasses set the bounds and their message."""

    field_class = WholeNumberFormField
    range_message: str | None = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("range_message", self.range_message)
        kwargs.setdefault("strip", False)
        kwargs.setdefault("blank_is_error", True)
        super().__init__(*args, **kwargs)

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "integer", **_bounds(self.extra)}


class IdFilter(WholeNumberFilter):
    """A row id: a whole number from 1 to 2^63-1, so PostgreSQL never sees one out of range."""

    range_message = numbers.ID_RANGE

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "integer", "format": "int64", **_bounds(self.extra)}


class YearFilter(WholeNumberFilter):
    range_message = periods.YEAR_RANGE

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", periods.MIN_YEAR)
        kwargs.setdefault("max_value", periods.MAX_YEAR)
        super().__init__(*args, **kwargs)


class MonthFilter(WholeNumberFilter):
    range_message = periods.MONTH_RANGE

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 12)
        super().__init__(*args, **kwargs)


class Month(NamedTuple):
    """A calendar month, e.g. Month(2026, 10); unpacks as (year, month), prints as 2026-10."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class PeriodField(forms.CharField):
    """A month -> Month(year, month). YYYY-MM is the format (what a month picker sends and what
    the field shows back); where a browser has no month picker (Firefox, desktop Safari show a
    text box) people type other forms, so these are read too: "2026/09", "09/2026", "9/2026",
    "Sep 2026", "Sept 2026", "September 2026" (English month names, any case). Anything else is
    refused with a message quoting it and naming YYYY-MM."""

    default_error_messages = {"invalid": "Enter a month as YYYY-MM, e.g. 2026-10."}

    def to_python(self, value: Any) -> Month | None:
        value = super().to_python(value)
        if not value:
            return None
        month = parse_period_text(value.strip())
        if month is None:
            message = f"{numbers.quote_typed(value.strip())} is not a month. "
            raise forms.ValidationError(message + self.error_messages["invalid"], code="invalid")
        return month

    def prepare_value(self, value: Any) -> Any:
        # A month read from another form shows back as YYYY-MM, the one format a month picker
        # displays: "Sep 2026" in a month input would show as empty while the rows are
        # September's. Text that is not a month shows as typed, beside its error.
        if isinstance(value, str):
            month = parse_period_text(value.strip())
            return str(month) if month else value
        return super().prepare_value(value)


_MONTH_NAMES = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
} | {"sept": 9}
# ASCII digits: \d would also match "２０２６-１０" (fullwidth) and int() would read it.
_YEAR_FIRST = re.compile(r"([0-9]{4})[-/]([0-9]{2})", re.ASCII)
_MONTH_FIRST = re.compile(r"([0-9]{1,2})/([0-9]{4})", re.ASCII)
_NAMED = re.compile(r"([A-Za-z]+)\.? +([0-9]{4})", re.ASCII)


def parse_period_text(text: str) -> Month | None:
    """The month `text` names in one of PeriodField's formats, within periods.MIN_YEAR..MAX_YEAR,
    or None."""
    if match := _YEAR_FIRST.fullmatch(text):
        year, month = int(match[1]), int(match[2])
    elif match := _MONTH_FIRST.fullmatch(text):
        month, year = int(match[1]), int(match[2])
    elif (match := _NAMED.fullmatch(text)) and match[1].lower() in _MONTH_NAMES:
        month, year = _MONTH_NAMES[match[1].lower()], int(match[2])
    else:
        return None
    if not (1 <= month <= 12 and periods.MIN_YEAR <= year <= periods.MAX_YEAR):
        return None
    return Month(year, month)


class PeriodFilter(Documented, django_filters.Filter):
    """`YYYY-MM`: rows of that month. With lookup_expr "gte"/"lte", from or up to that month
    (inclusive). The model needs `year` and `month` columns (behind `field_name`'s prefix)."""

    field_class = PeriodField

    def __init__(self, field_name: str | None = "", lookup_expr: str | None = None, **kwargs):
        # The columns are `year` and `month` themselves unless a relation is named: the
        # FilterSet must not default field_name to the parameter's name ("period", "from").
        kwargs.setdefault("label", {"gte": "From", "lte": "To"}.get(lookup_expr or "", "Period"))
        super().__init__(field_name, lookup_expr, **kwargs)

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-10"}

    def filter(self, qs: QuerySet, value: Month | None) -> QuerySet:
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


class ContainsFilter(Documented, django_filters.CharFilter):
    """Part of a text column, any case (e.g. a name). Up to 200 characters; surrounding spaces
    are ignored; a NUL character is refused (Django's CharField), as PostgreSQL cannot take it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "icontains")
        kwargs.setdefault("max_length", MAX_TEXT)
        super().__init__(*args, **kwargs)

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.extra["max_length"]}


class YesNoField(forms.Field):
    """true/false (and DRF's other spellings: 1/0, yes/no, on/off); blank is no filter. Any
    other word is an error, where forms.NullBooleanField would quietly read it as blank."""

    TRUE = {"true", "t", "yes", "y", "on", "1"}
    FALSE = {"false", "f", "no", "n", "off", "0"}
    BLANK = {"", "null", "none"}
    default_error_messages = {"invalid": "Enter true or false."}

    def to_python(self, value: Any) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        if text in self.BLANK:
            return None
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class YesNoFilter(Documented, django_filters.BooleanFilter):
    field_class = YesNoField

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class ChoiceFilter(Documented, django_filters.ChoiceFilter):
    """One of `choices`; blank is no filter."""

    def openapi_schema(self) -> dict[str, Any]:
        choices = self.extra["choices"]
        return {
            "type": "string",
            "enum": [value for value, _ in choices],
            "description": build_choice_description_list(choices),
        }


class SortFilter(Documented, django_filters.ChoiceFilter):
    """One of a list's named orders, e.g. ?sort=amount. `orderings` maps each name to its
    label and its order_by() fields; blank keeps the queryset's own (default) order."""

    def __init__(
        self,
        *args,
        orderings: Mapping[str, tuple[str, Sequence[Any]]],
        **kwargs,
    ):
        self.orderings = {name: tuple(fields) for name, (_, fields) in orderings.items()}
        kwargs["choices"] = [(name, label) for name, (label, _) in orderings.items()]
        super().__init__(*args, **kwargs)

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.orderings)}

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        return qs.order_by(*self.orderings[value]) if value else qs


class FilterSet(django_filters.FilterSet):
    """A FilterSet that can also leave some of its filters out, e.g. the dashboard's counts per
    status follow every filter but the status."""

    def qs_without(self, *names: str) -> QuerySet:
        """The queryset filtered by every valid value except those of the filters `names`."""
        qs = self.queryset.all()
        if not self.is_bound:
            return qs
        self.is_valid()
        for name, value in self.form.cleaned_data.items():
            if name not in names:
                qs = self.filters[name].filter(qs, value)
        return qs


def unknown_parameters(
    filterset_class: type[django_filters.FilterSet], params, *, allowed: Sequence[str] = ()
) -> dict[str, list[str]]:
    """{name: [message]} for each query parameter that is neither one of the FilterSet's
    filters nor in `allowed` (a list's paging parameters, e.g. "page", "page_size"); empty
    when every parameter is known. A misspelt filter (?stauts=draft) must not quietly answer
    every row."""
    known = list(filterset_class.base_filters)
    unknown = [name for name in params if name not in known and name not in allowed]
    if not unknown:
        return {}
    listed = ", ".join(known)
    if allowed:
        listed += f"; and {', '.join(allowed)}"
    message = f"Unknown filter. Known: {listed}."
    # Names are echoed back: cut a hostile one to a readable length.
    return {name[:100]: [message] for name in unknown}


def filter_for_api(
    filterset_class: type[django_filters.FilterSet],
    request,
    queryset: QuerySet,
    *,
    allowed: Sequence[str] = (),
):
    """The queryset filtered by the request's query string (SPEC "JSON API": lists). Raises
    DRF's ValidationError, a 400 `{"param": ["message"]}` naming each bad parameter: a value
    that does not parse, or a parameter that is neither a filter nor in `allowed` (the list's
    paging parameters), e.g. `{"stauts": ["Unknown filter. Known: status, ..."]}`."""
    errors = unknown_parameters(filterset_class, request.query_params, allowed=allowed)
    filterset = filterset_class(data=request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid() or errors:
        raise ValidationError({**errors, **filterset.errors})
    return filterset.qs


def filter_for_page(filterset_class: type[django_filters.FilterSet], request, queryset: QuerySet):
    """(filterset, filtered queryset) for a page: a value that does not parse is left out of
    the filtering and shown as an error on its field, never an error page."""
    filterset = filterset_class(data=request.GET, queryset=queryset, request=request)
    filterset.is_valid()
    return filterset, filterset.qs


def filter_query(filterset: django_filters.FilterSet) -> str:
    """The query string ("?status=draft&sort=amount", or "" for none) of the filters
    `filterset` was given and applies: its own parameters with a value, in the FilterSet's
    order, leaving out the page's others (page, per_page) and any value that did not parse
    (a page drops those). What an export of the same rows asks for, e.g. the dashboard's
    "Export CSV" link to GET /api/bills.csv."""
    data, errors = filterset.data, filterset.errors
    pairs = [
        (name, value)
        for name in filterset.filters
        if name not in errors
        for value in (data.getlist(name) if hasattr(data, "getlist") else [data.get(name)])
        if value not in (None, "")
    ]
    return f"?{urlencode(pairs)}" if pairs else ""


class FilterSetBackend(DjangoFilterBackend):
    """For an API view: applies its `filterset_class` with filter_for_api, and lets
    drf-spectacular document the FilterSet's parameters (it knows DjangoFilterBackend). Besides
    the filters, a paginated view takes its paginator's `page` and `page_size`; any other
    parameter is a 400 (an unpaginated view, such as a CSV export, takes the filters only)."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        return filter_for_api(filterset_class, request, queryset, allowed=paging_parameters(view))


def paging_parameters(view) -> tuple[str, ...]:
    """The query parameters a view's paginator reads ("page", "page_size"), or () for a view
    without one."""
    paginator = getattr(view, "paginator", None)
    if paginator is None:
        return ()
    names = (
        getattr(paginator, "page_query_param", None),
        getattr(paginator, "page_size_query_param", None),
    )
    return tuple(name for name in names if name)
