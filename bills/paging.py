"""Pages of a bill list in its default order (newest period first, then customer name, then
newest bill: bills.selectors.bill_list) without sorting the whole list (issue 14, "Build" 3):
billing_site.core.paging.PeriodPages (at 100,000 customers the first page took 371 ms and
p99 1.9 s under load when each page sorted every bill), counting from the bill tally when the
list is every bill.

Any other order (a `sort` filter: bills.filters.BILL_ORDERINGS, each with its index on
bills_bill) is read by NarrowPages: the page's ids first, in a subquery, so the rows an OFFSET
skips cost an index entry each instead of their joins and per-row subqueries (a deep page of
"largest amount" took 2 s at 100,000 customers). Django's Paginator and DRF's pagination take
either where they take a queryset.
"""

from __future__ import annotations

from functools import cached_property

from django.db.models import QuerySet

from billing_site.core import paging
from bills.models import Bill
from bills.tally import tally_periods, tally_scope

# bill_list's order; only a queryset in exactly this order is paged by period.
DEFAULT_ORDER = ("-year", "-month", "customer__name", "-id")
BACKWARDS = ("-customer__name", "id")


def bill_pages(
    bills: QuerySet[Bill], *, periods: list[tuple[int, int, int]] | None = None
) -> PeriodPages | NarrowPages:
    """What to paginate for `bills` (a filtered, ordered bill_list queryset): a PeriodPages
    when it is in the default order (and not DISTINCT, whose count a grouped count would not
    give), else a NarrowPages. `periods`, when the caller already counted `bills` per period
    (selectors.bill_list_totals, not for a DISTINCT list), saves the count's query."""
    if bills.query.distinct:
        return NarrowPages(bills)
    if tuple(bills.query.order_by) == DEFAULT_ORDER:
        pages = PeriodPages(bills)
        if periods is not None:
            pages.periods = periods  # the cached_property's value
        return pages
    return NarrowPages(bills, count=None if periods is None else sum(n for *_, n in periods))


class NarrowPages:
    """An ordered queryset as a sliceable sequence: count() is the queryset's, and [start:stop]
    one query whose subquery picks the page's ids in the queryset's order."""

    ordered = True

    def __init__(self, bills: QuerySet[Bill], *, count: int | None = None):
        self.bills = bills
        self._count = count

    def count(self) -> int:
        if self._count is None:
            if (scope := tally_scope(self.bills)) is not None:
                self._count = sum(n for _, _, n in tally_periods(**scope))
            else:
                self._count = self.bills.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Bill]:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("NarrowPages takes a slice [start:stop]")
        order = self.bills.query.order_by
        chosen = self.bills.values("pk")[key]
        return list(self.bills.filter(pk__in=chosen).order_by(*order))


class PeriodPages(paging.PeriodPages):
    """A bill_list queryset in its default order, as billing_site.core.paging.PeriodPages
    pages it; its periods come from the tally (bills.tally) when the list is every bill."""

    def __init__(self, bills: QuerySet[Bill]):
        super().__init__(bills, order=DEFAULT_ORDER, backwards=BACKWARDS)

    @cached_property
    def periods(self) -> list[tuple[int, int, int]]:
        """(year, month, rows of the list) of each period with rows, newest first; from the
        tally (bills.tally) when the list is every bill."""
        if (scope := tally_scope(self.rows)) is not None:
            return tally_periods(**scope)
        return super().periods
