"""Payments against sent invoices, and what they leave on a bill (SPEC "Bill lifecycle": payment
recorded): the amount paid, the balance due, the due date and how far past it the bill is.

A payment is never deleted: undoing one stamps who undid it, when and why, and it stops
counting. `Bill.amount_paid` is the sum of the payments that count, kept by the payment services
(bills/services/payments.py) under the bill's row lock. bills.models imports this module, so
Payment is one of the app's models; the status names are read from bills.models when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing_site.core import periods
from billing_site.core.fields import MoneyField

REFERENCE_MAX_LENGTH = 200


@dataclass(frozen=True)
class AgingBucket:
    """Bills by days past their due date: from `min_days` to `max_days` (inclusive; None is
    open-ended). Days past due = today - due date; 0 or less is not yet due."""

    key: str  # the `aging` filter's value
    label: str
    min_days: int | None
    max_days: int | None

    def holds(self, days: int) -> bool:
        """Whether a bill `days` past due falls in this bucket."""
        low = self.min_days is None or days >= self.min_days
        return low and (self.max_days is None or days <= self.max_days)

    def due_q(self, today: date, prefix: str = "") -> Q:
        """The same rule on the invoice's due date, for a queryset of bills (`prefix` reaches
        bills through a relation)."""
        field = f"{prefix}invoice__due_on"
        q = Q()
        if self.min_days is not None:
            q &= Q(**{f"{field}__lte": today - timedelta(days=self.min_days)})
        if self.max_days is not None:
            q &= Q(**{f"{field}__gte": today - timedelta(days=self.max_days)})
        return q


# The aging report's buckets, in order; every outstanding bill is in exactly one.
AGING_BUCKETS: tuple[AgingBucket, ...] = (
    AgingBucket("current", "Not yet due", None, 0),
    AgingBucket("1-30", "1–30 days", 1, 30),
    AgingBucket("31-60", "31–60 days", 31, 60),
    AgingBucket("61-90", "61–90 days", 61, 90),
    AgingBucket("90+", "Over 90 days", 91, None),
)


class PaymentStanding:
    """Mixed into Bill: what its payments leave. Reads the bill's `status`, `overage_amount`,
    `amount_paid` and its invoice (bill lists join it, so no query per row)."""

    @property
    def is_invoiced(self) -> bool:
        """Sent or paid: its invoice went out and stands (models.INVOICED_STATUSES)."""
        from bills.models import INVOICED_STATUSES

        return self.status in INVOICED_STATUSES

    @property
    def is_outstanding(self) -> bool:
        """Sent and not paid in full: a balance is due (a bill is paid once it is covered)."""
        from bills.models import Status

        return self.status == Status.SENT

    @property
    def balance_due(self) -> Decimal | None:
        """The amount less the payments that count, for an invoiced bill; None before the
        invoice goes out (nothing is due yet) and for a void bill (its invoice is cancelled)."""
        if not self.is_invoiced:
            return None
        return self.overage_amount - self.amount_paid

    def days_past_due(self, today: date | None = None) -> int | None:
        """Days since its invoice's due date (0 or less: not yet due) for an outstanding bill,
        else None. `today` defaults to today in settings.TIME_ZONE."""
        invoice = getattr(self, "invoice", None) if self.is_outstanding else None
        if invoice is None:
            return None
        return ((today or periods.today()) - invoice.due_on).days

    @property
    def overdue(self) -> bool:
        """Outstanding and today is after its due date."""
        days = self.days_past_due()
        return days is not None and days > 0

    @property
    def aging_bucket(self) -> AgingBucket | None:
        """The AGING_BUCKETS entry an outstanding bill is in today, else None."""
        days = self.days_past_due()
        if days is None:
            return None
        return next(bucket for bucket in AGING_BUCKETS if bucket.holds(days))


class PaymentQuerySet(models.QuerySet):
    def counted(self) -> PaymentQuerySet:
        """The payments that count: not undone."""
        return self.filter(undone_at__isnull=True)

    def delete(self):
        raise PermissionError("Payments are kept: undo a payment instead of deleting it.")


class Payment(models.Model):
    """Money received against a sent bill's invoice: when, how much (in the bill's currency),
    the payer's reference, and who recorded it. Undone (with who, when and why) it stays on
    record and no longer counts. The database refuses deleting a payment and changing one,
    except to undo it once."""

    bill = models.ForeignKey("bills.Bill", on_delete=models.PROTECT, related_name="payments")
    received_on = models.DateField()
    amount = MoneyField(max_digits=29, decimal_places=2)
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undo_comment = models.TextField(blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["received_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # Undone means all three: who, when and why; a payment that counts has none.
            models.CheckConstraint(
                condition=Q(undone_at__isnull=True, undone_by__isnull=True, undo_comment="")
                | (Q(undone_at__isnull=False, undone_by__isnull=False) & ~Q(undo_comment="")),
                name="payment_undone_with_who_when_why",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment #{self.pk} of {self.amount} on bill {self.bill_id}"

    @property
    def counts(self) -> bool:
        return self.undone_at is None

    def delete(self, *args, **kwargs):
        raise PermissionError("Payments are kept: undo a payment instead of deleting it.")
