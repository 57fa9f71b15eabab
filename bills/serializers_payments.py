"""What the bills API writes about payments, and the bodies of the payment endpoints
(bills/api_payments.py). bills.serializers adds `payments` to a bill's detail from here."""

from __future__ import annotations

from rest_framework import serializers

from billing_site.core.api import DecimalTextField, Int64Field, ModelSerializer
from bills.api_version import VersionedSerializer
from bills.models import Payment


class PaymentSerializer(ModelSerializer):
    date = serializers.DateField(source="received_on", read_only=True, help_text="Received on.")
    amount = serializers.DecimalField(
        max_digits=29, decimal_places=2, read_only=True, help_text="In the bill's currency."
    )
    recorded_by_id = Int64Field(read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.name", read_only=True)
    counts = serializers.BooleanField(
        read_only=True, help_text="false once undone: it stays on record but is not counted."
    )
    undone_by_id = Int64Field(read_only=True, allow_null=True)
    undone_by_name = serializers.CharField(
        source="undone_by.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "date",
            "amount",
            "reference",
            "recorded_by_id",
            "recorded_by_name",
            "created_at",
            "counts",
            "undone_at",
            "undone_by_id",
            "undone_by_name",
            "undo_comment",
        ]
        read_only_fields = fields


class PaymentRecordSerializer(VersionedSerializer):
    date = serializers.DateField(
        help_text="When the money was received, YYYY-MM-DD: not in the future, not before the "
        "invoice's issue date."
    )
    amount = DecimalTextField(
        help_text='In the bill\'s currency, e.g. "125.50": above 0, at most 2 decimal places, '
        "at most the balance due (an overpayment is a 400)."
    )
    reference = serializers.CharField(
        allow_blank=True, help_text="The payer's reference, e.g. the bank transfer id. Required."
    )


class PaymentUndoSerializer(VersionedSerializer):
    comment = serializers.CharField(allow_blank=True, help_text="Required: why it is undone.")
