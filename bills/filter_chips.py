"""How the dashboard names a filter that has no field of its own on the page (customer_id,
year, month: bills.forms.BillFilterForm.CHIP_FIELDS), for the chip that shows and removes it.

The page accepts every parameter GET /api/bills does (SPEC "JSON API": one set of filters);
a filter nobody can see must still be on screen, so each becomes a chip.
"""

from __future__ import annotations

import calendar
from typing import Any

from customers.selectors import customer_get


def chip_label(name: str, value: Any, *, raw: Any = None, errors: list[str] | None = None) -> str:
    """The chip's words for filter `name` with its parsed `value`, e.g. "Customer: Acme Corp"
    (one query for the name), "Customer #12 (no such customer)", "Year 2025", "Month: March".
    With `errors` (the value did not parse), e.g. "Year 1999 ignored: Enter a year from 2000
    to 2100." — the page drops a bad value rather than failing."""
    if errors:
        return f"{_TITLES.get(name, name)} “{raw}” ignored: {' '.join(errors)}"
    if name == "customer_id":
        customer = customer_get(int(value))
        if customer is None:
            return f"Customer #{value} (no such customer)"
        return f"Customer: {customer.name}"
    if name == "month":
        return f"Month: {calendar.month_name[int(value)]}"
    if name == "year":
        return f"Year {value}"
    return f"{_TITLES.get(name, name)}: {value}"


_TITLES = {"customer_id": "Customer id", "year": "Year", "month": "Month"}


def chip_removed(data, name: str) -> str:
    """The query string of `data` (a QueryDict, e.g. request.GET) without the filter `name`
    and without `page` (a narrower or wider list starts on its first page): the chip's ×."""
    rest = data.copy()
    for key in (name, "page"):
        rest.pop(key, None)
    query = rest.urlencode()
    return f"?{query}" if query else "?"
