"""The documents that leave the building (SPEC "Bill lifecycle": sent, voided): the invoice of
a sent bill and the credit note of a voided one, each numbered from a gap-free sequence and
frozen once delivered."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from billing_site.core.fields import MoneyField


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class DocumentSequence(models.Model):
    """The last number issued of one kind of document in one year. Taken under a row lock in
    the transaction that issues the document, so numbers have no gaps and are never reused."""

    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="document_sequence_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"


class IssuedDocument(models.Model):
    """What an issued document says, frozen once it has been delivered: a later edit of the
    customer or of a setting changes no document that went out (SPEC "Bill lifecycle")."""

    number = models.CharField(max_length=24, unique=True)
    issued_on = models.DateField()
    seller_name = models.CharField(max_length=200)
    seller_address = models.TextField(blank=True)
    seller_contact = models.CharField(max_length=200, blank=True)
    bill_to_name = models.CharField(max_length=200)
    bill_to_address = models.TextField(blank=True)
    bill_to_email = models.CharField(max_length=254)
    amount = MoneyField(max_digits=29, decimal_places=2)
    currency = models.CharField(max_length=3)
    # The PDF as it was emailed: downloads serve these bytes, never a new rendering.
    pdf = models.BinaryField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if getattr(self, "_delivered", False):
            raise PermissionError(f"{self.number} was delivered; a delivered document is final.")
        super().save(*args, **kwargs)
        self._delivered = self.delivered_at is not None

    def delete(self, *args, **kwargs):
        raise PermissionError("Issued documents are kept.")

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        document = super().from_db(db, field_names, values, **kwargs)
        document._delivered = document.delivered_at is not None
        return document


class Invoice(IssuedDocument):
    """The invoice of a sent bill: its number from the invoice sequence, its dates, the parties
    and the line, as sent."""

    bill = models.OneToOneField("bills.Bill", on_delete=models.PROTECT, related_name="invoice")
    due_on = models.DateField()
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    api_usage = models.BigIntegerField()
    monthly_api_limit = models.BigIntegerField()
    overage_units = models.BigIntegerField()
    overage_unit_cost = MoneyField(max_digits=14, decimal_places=6)

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class CreditNote(IssuedDocument):
    """Cancels a sent invoice when its bill is voided: its own number sequence, the invoice it
    credits, the amount credited and why."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="credit_note")
    reason = models.TextField()

    def __str__(self) -> str:
        return f"Credit note {self.number}"
