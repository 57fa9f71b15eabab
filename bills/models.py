"""Bills and their history (SPEC "Data": Bill, BillAction; "Bill lifecycle").

Statuses and their groups live here, beside the columns they describe; which action may move a
bill from which status is the lifecycle table in bills/services/lifecycle.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from billing_site.core.fields import MoneyField, money_order
from bills.models_documents import (  # noqa: F401 (the app's models)
    CreditNote,
    DocumentKind,
    DocumentSequence,
    Invoice,
    IssuedDocument,
)
from bills.models_jobs import Job, JobKind, JobStatus  # noqa: F401 (the app's model)
from bills.models_outbox import Delivery, DeliveryStatus  # noqa: F401 (the app's model)
from bills.models_payments import Payment, PaymentStanding  # noqa: F401 (the app's model)
from bills.models_tally import BillTally  # noqa: F401 (the app's model)

if TYPE_CHECKING:
    from bills.services.history import HistoryEntry


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SENT = "sent", "Sent"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


# Not yet sent: the bill may still change, and its usage may still differ from what it was
# computed from. The one definition: the queryset, usage_changed and the CSV import read it.
UNSENT_STATUSES: frozenset[str] = frozenset({Status.DRAFT, Status.APPROVED, Status.REJECTED})
# What is owed (or will be, once sent): the dashboard's "All" adds these; a rejected bill is
# written off and a void one cancelled.
OWED_STATUSES: frozenset[str] = frozenset({Status.DRAFT, Status.APPROVED, Status.SENT})
# Invoiced: the invoice went out and stands (a paid bill is still live and invoiced, not owed).
INVOICED_STATUSES: frozenset[str] = frozenset({Status.SENT, Status.PAID})


class Action(models.TextChoices):
    CREATED = "created", "Created"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVERTED = "reverted", "Reverted"
    UPDATED = "updated", "Updated"
    SENT = "sent", "Sent"
    SEND_FAILED = "send_failed", "Send failed"
    VOIDED = "voided", "Voided"
    REBILLED = "rebilled", "Re-billed"
    FLAG_DISMISSED = "flag_dismissed", "Usage flag dismissed"
    PAYMENT_RECORDED = "payment_recorded", "Payment recorded"
    PAYMENT_UNDONE = "payment_undone", "Payment undone"
    # The outbox (issue 12): rows about a document's email; the bill's status does not change.
    EMAIL_QUEUED = "email_queued", "Email queued"
    EMAIL_RETRY = "email_retry", "Email attempt failed"
    EMAIL_DELIVERED = "email_delivered", "Email delivered"
    EMAIL_FAILED = "email_failed", "Email failed"


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


# Largest amount first, as core.fields.money_order sorts a MoneyField, then newest period:
# the "amount" order of the dashboard and GET /api/bills, and its index.
AMOUNT_ORDER = (
    *money_order("overage_amount", descending=True),
    F("year").desc(),
    F("month").desc(),
    F("id").desc(),
)


def default_currency() -> str:
    return settings.CURRENCY


class Bill(PaymentStanding, models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="bills"
    )
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    # The inputs as they were when the bill was computed, so the bill explains itself later.
    api_usage = models.BigIntegerField()
    monthly_api_limit = models.BigIntegerField()
    overage_units = models.BigIntegerField()
    overage_unit_cost = MoneyField(max_digits=14, decimal_places=6)
    # 27 integer digits: 64-bit usage times a unit cost below 1e8 stays below 1e27, so every
    # amount the inputs allow can be stored exactly.
    overage_amount = MoneyField(max_digits=29, decimal_places=2)
    # What the payments that count add up to (models_payments.Payment), kept by the payment
    # services under the bill's row lock, so lists filter and add balances without a join.
    amount_paid = MoneyField(max_digits=29, decimal_places=2, default=Decimal("0.00"))
    # ISO 4217, fixed when the bill is made: a later change of settings.CURRENCY changes no bill.
    currency = models.CharField(max_length=3, default=default_currency)
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
    # The customer's terms version the bill was computed with (None: the customer's own columns,
    # for a customer without versions); a newer version for its month flags it (terms_changed).
    terms = models.ForeignKey(
        "customers.CustomerTerms",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
    )
    # The void bill this one bills again (SPEC "Bill lifecycle": voided, re-billed).
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    # When the amounts were last computed (made, recomputed or repriced); nothing else moves it.
    computed_at = models.DateTimeField(default=timezone.now)
    # The month's usage when Finance dismissed the "usage changed after sending" flag: the flag
    # comes back only if the usage changes again.
    dismissed_usage = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # 1 when made, one more on every save (history.bill_save, under the row lock): a page or a
    # client sends the version it decided on, and a transition of a bill that changed since is a
    # 409 (SPEC "Bill lifecycle"; lifecycle.check_version).
    version = models.PositiveIntegerField(default=1)

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
                condition=Q(overage_unit_cost__gte=0, overage_amount__gte=0, amount_paid__gte=0),
                name="bill_money_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-year", "-month"], name="bill_status_period_idx"),
            # Ends with customer: generation probes one customer-month per row.
            models.Index(fields=["-year", "-month", "customer"], name="bill_period_idx"),
            # The dashboard's other orders (bills.filters.BILL_ORDERINGS), so that a page of
            # them reads the index instead of sorting every bill (tests/bills/test_paging.py).
            models.Index(fields=["created_at", "id"], name="bill_oldest_idx"),
            models.Index(*AMOUNT_ORDER, name="bill_amount_idx"),
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

    def month_usage(self) -> int:
        """The month's usage as recorded now (0 when none). Selectors annotate `current_usage`
        so lists do not query per row."""
        if hasattr(self, "current_usage"):
            return int(self.current_usage or 0)
        from usage.models import Usage

        current = (
            Usage.objects.filter(customer_id=self.customer_id, year=self.year, month=self.month)
            .values_list("api_usage", flat=True)
            .first()
        )
        return int(current or 0)

    @property
    def usage_changed(self) -> bool:
        """The month's usage differs from what this not-yet-sent bill was computed from: it must
        be recomputed before it is approved or sent (SPEC "Bill lifecycle")."""
        return self.is_unsent and self.month_usage() != self.api_usage

    @property
    def terms_changed(self) -> bool:
        """The customer's terms in force for this not-yet-sent bill's month are another version
        than the one it was computed with: recompute it (like a usage change). Selectors
        annotate `current_terms_id` so lists do not query per row."""
        if not self.is_unsent:
            return False
        if hasattr(self, "current_terms_id"):
            return self.current_terms_id != self.terms_id
        from customers.selectors import customer_terms_for

        terms = customer_terms_for(customer=self.customer, year=self.year, month=self.month)
        return terms.id != self.terms_id

    @property
    def inputs_changed(self) -> bool:
        """usage_changed or terms_changed: it must be recomputed before approval or sending."""
        return self.usage_changed or self.terms_changed

    @property
    def usage_changed_after_sending(self) -> bool:
        """A sent bill whose month's usage changed afterwards, and Finance has not dismissed
        that change: it stays flagged until voided and re-billed, or dismissed."""
        if self.status != Status.SENT:
            return False
        usage = self.month_usage()
        return usage != self.api_usage and usage != self.dismissed_usage

    @property
    def usage_difference(self) -> int:
        """Calls recorded now minus calls billed (negative when usage went down)."""
        return self.month_usage() - self.api_usage


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
    # The stakeholder's name and role when they acted (SPEC "BillAction"): a later rename or
    # change of role does not rewrite history. Filled by services.history.history_row.
    stakeholder_name = models.CharField(max_length=150)
    stakeholder_role = models.CharField(max_length=32)
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
            models.CheckConstraint(
                condition=~Q(stakeholder_name="") & ~Q(stakeholder_role=""),
                name="billaction_stakeholder_named",
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
