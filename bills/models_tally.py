"""Running counts and exact totals of the bills per billing period and status (issue 14), so
the dashboard's status tiles and an unfiltered list's count read a few dozen rows instead of
adding up every bill (36 ms and 17 ms at 130,000 bills, the larger part of each request).

PostgreSQL keeps them: statement triggers on bills_bill (migration 0017) add one row per
(year, month, status) a statement changes, holding the change (+1 bill and its amounts when a
bill enters that status or period, -1 and minus its amounts when it leaves), in the writer's
transaction, so the sum of the rows is exact for every reader's snapshot. The rows are only
ever inserted by writers (no row is updated, so no writer waits for another); now and then
(about one statement in a hundred, and on bills.tally.tally_compact) one statement folds them
into one row per key, under a lock nobody waits for. Readers add them up: bills.tally.
SQLite (make run) has the table but no triggers; its readers count the bills themselves.
"""

from __future__ import annotations

from django.db import models


class BillTally(models.Model):
    """One change (or, once folded, the running total) of the bills of (year, month, status):
    how many, their overage_amount and their amount_paid. Sum the rows of a key for its
    figures; never written by the app, only by the database's triggers."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16)
    bills = models.BigIntegerField()
    overage_amount = models.DecimalField(max_digits=38, decimal_places=2)
    amount_paid = models.DecimalField(max_digits=38, decimal_places=2)

    class Meta:
        verbose_name_plural = "bill tallies"

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} {self.status}: {self.bills:+d}"
