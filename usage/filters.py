"""Which usage rows a list shows (SPEC "JSON API": GET /api/usage): one FilterSet for GET
/api/usage and GET /api/usage.csv. The queryset comes from usage.selectors.usage_list (the
customer joined, newest month first); the rules that narrow it are here. Each filter also says
what the OpenAPI document shows for its query parameter (billing_site/core/filters.py)."""

from __future__ import annotations

from billing_site.core.filters import FilterSet, IdFilter, MonthFilter, PeriodFilter, YearFilter
from usage.models import Usage


class UsageFilterSet(FilterSet):
    customer_id = IdFilter(description="Usage of this customer (its id).")
    year = YearFilter()
    month = MonthFilter(description="1 to 12.")
    # "from" is a Python keyword, so it cannot be an attribute's name; the class body's
    # namespace is the dict the FilterSet collects its filters from.
    locals()["from"] = PeriodFilter(
        lookup_expr="gte", description="From this month on (inclusive), as YYYY-MM."
    )
    to = PeriodFilter(lookup_expr="lte", description="Up to this month (inclusive), as YYYY-MM.")

    class Meta:
        model = Usage
        fields: list[str] = []  # the declared filters only
