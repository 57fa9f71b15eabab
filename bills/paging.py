"""Pages of a bill list in its default order (newest period first, then customer name, then
newest bill: bills.selectors.bill_list) without sorting the whole list (issue 14, "Build" 3).

The order's second key is on the customer, so no index of bills_bill can give it, and each
page used to join and sort every bill of the list (371 ms at 100,000 customers, p99 1.9 s
under load). PeriodPages counts the list per period instead (one grouped query, which also
gives the total), then reads a page one period at a time: within one month PostgreSQL walks
the customers' name index and probes bill_period_idx (year, month, customer) for each, so the
first page of a month of 33,000 bills reads about 150 index entries instead of sorting them
all. A page past the middle of its month walks the month backwards from its end instead, so
the last page is as cheap as the first; a page near the middle still sorts the half of the
month before (or after) it, at most half of what every page sorted before. The count is the
sum of the per-period counts: a page costs the same two queries as a paginated queryset
(count, page), three or four when it straddles large periods.

Any other order (a `sort` filter: bills.filters.BILL_ORDERINGS, each with its index on
bills_bill) is read by NarrowPages: the page's ids first, in a subquery, so the rows an OFFSET
skips cost an index entry each instead of their joins and per-row subqueries (a deep page of
"largest amount" took 2 s at 100,000 customers). Django's Paginator and DRF's pagination take
either where they take a queryset.
"""

from __future__ import annotations

from functools import cached_property

from django.db.models import Count, Q, QuerySet

from bills.models import Bill
from bills.tally import tally_periods, tally_scope

# bill_list's order; only a queryset in exactly this order is paged by period.
DEFAULT_ORDER = ("-year", "-month", "customer__name", "-id")
BACKWARDS = ("-customer__name", "id")
# Periods with at most this many rows of the list are read together with their neighbours
# (sorting a few thousand rows costs less than one more round trip).
SMALL_PERIOD = 2_000


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


class PeriodPages:
    """A bill_list queryset in its default order, as a sliceable sequence: count() (one
    grouped query, cached) and [start:stop] (a list of bills in the queryset's order, read
    with one query per run of small periods and one per large period the slice touches: one
    in all for a page inside a period, as a paginated queryset does)."""

    ordered = True  # for Paginator's check: the order is DEFAULT_ORDER

    def __init__(self, bills: QuerySet[Bill]):
        self.bills = bills

    @cached_property
    def periods(self) -> list[tuple[int, int, int]]:
        """(year, month, rows of the list) of each period with rows, newest first; from the
        tally (bills.tally) when the list is every bill."""
        if (scope := tally_scope(self.bills)) is not None:
            return tally_periods(**scope)
        rows = (
            self.bills.order_by()
            .values_list("year", "month")
            .annotate(n=Count("*"))
            .order_by("-year", "-month")
        )
        return [(year, month, n) for year, month, n in rows]

    def count(self) -> int:
        return sum(n for _, _, n in self.periods)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Bill]:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("PeriodPages takes a slice [start:stop]")
        start, stop = key.start or 0, self.count() if key.stop is None else key.stop
        found: list[Bill] = []
        for group, lo, hi, rows in self._groups(start, stop):
            found += self._read(group, lo, hi, rows)
        return found

    def _groups(self, start: int, stop: int):
        """The runs of periods the rows [start, stop) fall in: (periods, lo, hi, rows) with
        [lo, hi) the run's own rows taken and `rows` all of its rows. A large period is a run
        of its own; small neighbours share one."""
        runs: list[list] = []
        offset = 0
        for year, month, n in self.periods:
            if offset >= stop:
                break
            if offset + n > start:
                lo, hi = max(start - offset, 0), min(stop - offset, n)
                last = runs[-1] if runs else None
                if last and n <= SMALL_PERIOD and last[3] <= SMALL_PERIOD:
                    last[0].append((year, month))
                    last[2], last[3] = last[3] + hi, last[3] + n
                else:
                    runs.append([[(year, month)], lo, hi, n])
            offset += n
        return [tuple(run) for run in runs]

    def _read(self, periods: list[tuple[int, int]], lo: int, hi: int, rows: int) -> list[Bill]:
        """Rows [lo, hi) of these consecutive periods, in the list's order: one query, the page
        chosen by a narrow subquery (ids only) so the rows skipped cost no join or subquery."""
        if hi <= lo:
            return []
        in_periods = Q()
        for year, month in periods:
            in_periods |= Q(year=year, month=month)
        run = self.bills.filter(in_periods)
        if len(periods) == 1 and lo > rows - hi:
            # Nearer the month's end: walk it backwards (the name index read from the end).
            chosen = run.order_by(*BACKWARDS).values("pk")[rows - hi : rows - lo]
        else:
            chosen = run.order_by(*DEFAULT_ORDER).values("pk")[lo:hi]
        return list(run.filter(pk__in=chosen).order_by(*DEFAULT_ORDER))
