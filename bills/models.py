"""Bills and their history (SPEC "Data": Bill, BillAction; "Bill lifecycle").

Statuses and their groups live here, beside the columns they describe; which action may move a
bill from which status is the lifecycle table in bills/services/lifecycle.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from bills.services.history import HistoryEntry


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SENT = "sent", "Sent"
    VOID = "void", "Void"


# Not yet sent: the bill may still change, and its usage may still differ from what it was
# computed from. The one definition: the queryset, usage_changed and the CSV import read it.
UNSENT_STATUSES: frozenset[str] = frozenset({Status.DRAFT, Status.APPROVED, Status.REJECTED})


class Action(models.TextChoices):
    CREATED = "created", "Created"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVERTED = "reverted", "Reverted"
    UPDATED = "updated", "Updated"
    SENT = "sent", "Sent"
    SEND_FAILED = "send_failed", "Send failed"
    VOIDED = "voided", "Voided"


def live_q(prefix: str = "") -> Q:
    """The condition of a live bill, one that counts for its customer-month: every status but
    void (SPEC "Data"). `prefix` reaches bills through a relation, e.g. "bills__"."""
    return ~Q(**{f"{prefix}status": Status.VOID})


class BillQuerySet(models.QuerySet):
    def live(self) -> BillQuerySet:
        """Bills that count for their customer-month (live_q)."""
        return self.filter(live_q())

    def unsent(self) -> BillQuerySet:
        """Bills not yet sent: draft, approved or rejected (UNSENT_STATUSES)."""
        return self.filter(status__in=UNSENT_STATUSES)


class Bill(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="bills"
    )
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    # The inputs as they were when the bill was computed, so the bill explains itself later.
    api_usage = models.BigIntegerField()
    monthly_api_limit = models.BigIntegerField()
    overage_units = models.BigIntegerField()
    overage_unit_cost = models.DecimalField(max_digits=14, decimal_places=6)
    # 27 integer digits: 64-bit usage times a unit cost below 1e8 stays below 1e27, so every
    # amount the inputs allow can be stored exactly.
    overage_amount = models.DecimalField(max_digits=29, decimal_places=2)
    # The approval policy in force when the bill was computed; "update" refreshes it.
    requires_csm_approval = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    csm_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    csm_approved_at = models.DateTimeField(null=True, blank=True)
    sales_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sales_approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = BillQuerySet.as_manager()

    # The history entry the next save() writes as a BillAction (bills.signals); set only through
    # record_history(), and a save without one is refused. Not a column.
    pending_history: HistoryEntry | None = None

    class Meta:
        ordering = ["-year", "-month", "customer__name", "id"]
        constraints = [
            # Voided bills stay as history; the customer-month may then be billed again.
            models.UniqueConstraint(
                fields=["customer", "year", "month"],
                condition=live_q(),
                name="bill_one_live_per_customer_month",
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="bill_month_1_12"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="bill_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(api_usage__gte=0, monthly_api_limit__gte=0, overage_units__gte=0),
                name="bill_counts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(overage_unit_cost__gte=0, overage_amount__gte=0),
                name="bill_money_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-year", "-month"], name="bill_status_period_idx"),
            # Ends with customer: generation probes one customer-month per row.
            models.Index(fields=["-year", "-month", "customer"], name="bill_period_idx"),
        ]

    def __str__(self) -> str:
        return f"Bill #{self.pk} {self.customer_id} {self.period}"

    @property
    def period(self) -> str:
        return f"{self.year}-{self.month:02d}"

    def record_history(self, entry: HistoryEntry) -> None:
        """Attach the BillAction that the next save() writes (the post-save signal writes it)."""
        self.pending_history = entry

    @property
    def approvals_given(self) -> int:
        return int(self.csm_approved_by_id is not None) + int(self.sales_approved_by_id is not None)

    @property
    def approvals_complete(self) -> bool:
        """SPEC "Approvals": one approval (Sales or the CSM), or both the CSM's and a Sales
        approval when the bill requires CSM approval."""
        if self.requires_csm_approval:
            return self.csm_approved_by_id is not None and self.sales_approved_by_id is not None
        return self.approvals_given >= 1

    @property
    def approvals_needed(self) -> int:
        """How many approvals a draft still needs before it is approved (0 once decided)."""
        if self.status != Status.DRAFT or self.approvals_complete:
            return 0
        if self.requires_csm_approval:
            return int(self.csm_approved_by_id is None) + int(self.sales_approved_by_id is None)
        return 1

    @property
    def is_unsent(self) -> bool:
        return self.status in UNSENT_STATUSES

    @property
    def usage_changed(self) -> bool:
        """The month's usage differs from what this not-yet-sent bill was computed from.

        Selectors annotate `current_usage` so lists do not query per row.
        """
        if not self.is_unsent:
            return False
        if hasattr(self, "current_usage"):
            current = self.current_usage
        else:
            from usage.models import Usage

            current = (
                Usage.objects.filter(customer_id=self.customer_id, year=self.year, month=self.month)
                .values_list("api_usage", flat=True)
                .first()
            )
        return int(current or 0) != self.api_usage


class BillActionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Bill history is append-only.")

    def delete(self):
        raise PermissionError("Bill history is append-only.")


class BillAction(models.Model):
    """One row per create or update of a bill. Append-only: the database refuses edits too."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="actions")
    stakeholder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bill_actions"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    comment = models.TextField(blank=True)
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The seed's column. A history row is never changed, so it always equals created_at.
    updated_at = models.DateTimeField(default=timezone.now)

    objects = BillActionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=[a.value for a in Action]), name="billaction_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.stakeholder_id} on bill {self.bill_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Bill history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Bill history is append-only.")
