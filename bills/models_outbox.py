"""The outbox of invoice and credit-note emails (issue 12): one Delivery per send (or resend)
of a document, written in the transaction that sends or voids the bill, delivered by the
background worker (bills.tasks.document_deliver_task)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # waiting for the worker (also between retries)
    SENDING = "sending", "Sending"  # handed to the mail server by a worker right now
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One email of one document: its idempotency key (the Message-ID's local part, so a mail
    server or a person can tell a repeat), its state, how many attempts it took and why the
    last one failed. Exactly one of `invoice` and `credit_note` is set."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bill = models.ForeignKey("bills.Bill", on_delete=models.PROTECT, related_name="deliveries")
    invoice = models.ForeignKey(
        "bills.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    credit_note = models.ForeignKey(
        "bills.CreditNote", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_email = models.CharField(max_length=254)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The worker holding the delivery while it talks to the mail server (status "sending").
    claimed_by = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invoice__isnull=False, credit_note__isnull=True)
                | models.Q(invoice__isnull=True, credit_note__isnull=False),
                name="delivery_one_document",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_label} to {self.to_email}: {self.status}"

    @property
    def document_title(self) -> str:
        """ "Invoice 2026-000123" or "Credit note CN-2026-000001": the label to start a
        sentence with (str.capitalize would lower the number's "CN")."""
        label = self.document_label
        return label[:1].upper() + label[1:]

    @property
    def document_label(self) -> str:
        """ "invoice 2026-000123" or "credit note CN-2026-000001"."""
        if self.credit_note_id:
            return f"credit note {self.credit_note.number}"
        return f"invoice {self.invoice.number}"
