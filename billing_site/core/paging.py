"""Pages of a list ordered newest period first, then by customer name, without sorting the
whole list (issue 14): the bill lists (bills.paging) and the usage list (usage.selectors).

The order's second key is on the customer, so no index of the listed table can give it, and
each page used to join and sort every row. PeriodPages counts the list per period instead
(one grouped query, which also gives the total), then reads a page one period at a time:
within one month PostgreSQL walks the customers' name index and probes the table's
(year, month, customer) index for each, so the first page of a month of 100,000 rows reads
about 150 index entries instead of sorting them all. A page past the middle of its month walks
the month backwards from its end instead, so the last page is as cheap as the first; a page
near the middle still sorts the half of the month before (or after) it. The count is the sum
of the per-period counts: a page costs the same two queries as a paginated queryset (count,
page), three or four when it straddles large periods. Django's Paginator and DRF's pagination
take it where they take a queryset.
"""

from __future__ import annotations

from functools import cached_property

from django.db.models import Count, Model, Q, QuerySet

# Periods with at most this many rows of the list are read together with their neighbours
# (sorting a few thousand rows costs less than one more round trip).
SMALL_PERIOD = 2_000


class PeriodPages:
    """A queryset in `order` (newest period first, then customer name, then the row's id one
    way or the other) as a sliceable sequence: count() (one grouped query, cached) and
    [start:stop] (a list of rows in that order, read with one query per run of small periods
    and one per large period the slice touches: one in all for a page inside a period).
    `backwards` is the order within a period reversed (customer name, then id)."""

    ordered = True  # for Paginator's check: the rows are in `order`

    def __init__(self, rows: QuerySet, *, order: tuple[str, ...], backwards: tuple[str, ...]):
        self.rows = rows
        self.order = order
        self.backwards = backwards

    @cached_property
    def periods(self) -> list[tuple[int, int, int]]:
        """(year, month, rows of the list) of each period with rows, newest first."""
        rows = (
            self.rows.order_by()
            .values_list("year", "month")
            .annotate(n=Count("*"))
            .order_by("-year", "-month")
        )
        return [(year, month, n) for year, month, n in rows]

    def count(self) -> int:
        return sum(n for _, _, n in self.periods)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Model]:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("PeriodPages takes a slice [start:stop]")
        start, stop = key.start or 0, self.count() if key.stop is None else key.stop
        found: list[Model] = []
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

    def _read(self, periods: list[tuple[int, int]], lo: int, hi: int, rows: int) -> list[Model]:
        """Rows [lo, hi) of these consecutive periods, in the list's order: one query, the page
        chosen by a narrow subquery (ids only) so the rows skipped cost no join or subquery."""
        if hi <= lo:
            return []
        in_periods = Q()
        for year, month in periods:
            in_periods |= Q(year=year, month=month)
        run = self.rows.filter(in_periods)
        if len(periods) == 1 and lo > rows - hi:
            # Nearer the month's end: walk it backwards (the name index read from the end).
            chosen = run.order_by(*self.backwards).values("pk")[rows - hi : rows - lo]
        else:
            chosen = run.order_by(*self.order).values("pk")[lo:hi]
        return list(run.filter(pk__in=chosen).order_by(*self.order))
