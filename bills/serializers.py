"""What the bills API writes (a bill, its history, a generation's result) and the bodies it
reads. Other apps' readers (the customer API) use these too, never bills.api."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from billing_site.core import periods
from billing_site.core.api import (
    DecimalTextField,
    Int64Field,
    ModelSerializer,
    StrictSerializer,
    WholeNumberField,
    id_field,
)
from bills.api_version import VersionedSerializer
from bills.models import Bill, BillAction, Status
from bills.serializers_payments import PaymentSerializer

# --- output --------------------------------------------------------------------------------


class BillSummarySerializer(ModelSerializer):
    customer_id = Int64Field(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    approvals_needed = serializers.IntegerField(
        read_only=True, help_text="Approvals still missing before the bill is approved."
    )
    currency = serializers.CharField(
        read_only=True, help_text="ISO 4217 code of every amount of the bill, e.g. USD."
    )
    invoice_number = serializers.CharField(
        source="invoice.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Given when the bill is sent, from a gap-free sequence (2026-000123).",
    )
    issued_on = serializers.DateField(
        source="invoice.issued_on", read_only=True, allow_null=True, default=None
    )
    due_on = serializers.DateField(
        source="invoice.due_on", read_only=True, allow_null=True, default=None
    )
    amount_paid = serializers.DecimalField(
        max_digits=29,
        decimal_places=2,
        read_only=True,
        help_text="What the payments that count add up to (undone ones are left out).",
    )
    balance_due = serializers.DecimalField(
        max_digits=29,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="overage_amount less amount_paid for a sent or paid bill; null before the "
        "invoice goes out and for a void bill.",
    )
    overdue = serializers.BooleanField(
        read_only=True,
        help_text="Sent, not paid in full, and today is after `due_on` (in the server's "
        "TIME_ZONE).",
    )
    credit_note_number = serializers.CharField(
        source="invoice.credit_note.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The credit note that cancelled the invoice when the bill was voided.",
    )
    replaces_id = Int64Field(
        read_only=True, allow_null=True, help_text="The void bill this one bills again."
    )
    replaced_by_id = Int64Field(
        source="replaced_by.id",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The bill that bills this void bill's month again.",
    )

    class Meta:
        model = Bill
        fields = [
            "id",
            "customer_id",
            "customer_name",
            "year",
            "month",
            "api_usage",
            "monthly_api_limit",
            "overage_units",
            "overage_unit_cost",
            "overage_amount",
            "currency",
            "status",
            "approvals_needed",
            "invoice_number",
            "issued_on",
            "due_on",
            "amount_paid",
            "balance_due",
            "overdue",
            "credit_note_number",
            "replaces_id",
            "replaced_by_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BillSerializer(BillSummarySerializer):
    usage_changed = serializers.BooleanField(
        read_only=True,
        help_text="The month's recorded usage differs from what this unsent bill was computed "
        "from: it cannot be approved or sent (409) until Finance recomputes it "
        "(PATCH /api/bills/{id}).",
    )
    terms_changed = serializers.BooleanField(
        read_only=True,
        help_text="The customer's terms in force for this unsent bill's month changed after it "
        "was computed: like a usage change, recompute before approving or sending.",
    )
    usage_changed_after_sending = serializers.BooleanField(
        read_only=True,
        help_text="A sent bill whose month's usage changed afterwards: flagged until Finance "
        "voids and re-bills it or dismisses the change (PATCH /api/bills/{id}/dismiss).",
    )
    usage_difference = serializers.IntegerField(
        read_only=True, help_text="API calls recorded for the month now minus the calls billed."
    )
    version = serializers.IntegerField(
        read_only=True,
        help_text="1 when made, one more on every change: send it with an action (`version` or "
        "If-Match) and a bill that changed since is a 409 instead of a second decision.",
    )
    computed_at = serializers.DateTimeField(
        read_only=True,
        help_text="When the amounts were last computed (made, recomputed or repriced); "
        "`updated_at` moves with every action.",
    )

    class Meta(BillSummarySerializer.Meta):
        fields = [
            *BillSummarySerializer.Meta.fields,
            "usage_changed",
            "terms_changed",
            "usage_changed_after_sending",
            "usage_difference",
            "computed_at",
            "version",
        ]
        read_only_fields = fields


class BlankAsNullChoiceField(serializers.ChoiceField):
    def to_representation(self, value):
        return None if value == "" else super().to_representation(value)


class BillActionSerializer(ModelSerializer):
    stakeholder_id = Int64Field(read_only=True)
    stakeholder_name = serializers.CharField(
        read_only=True, help_text="The stakeholder's name when they acted."
    )
    stakeholder_role = serializers.CharField(
        read_only=True, help_text="The stakeholder's role when they acted."
    )
    from_status = BlankAsNullChoiceField(
        choices=Status.choices, allow_null=True, read_only=True, help_text="null for created."
    )
    changes = serializers.JSONField(
        read_only=True,
        help_text='What the action changed, e.g. {"overage_unit_cost": ["0.002500", '
        '"0.002000"]} for an update or {"approval": "sales"}.',
    )

    class Meta:
        model = BillAction
        fields = [
            "id",
            "action",
            "stakeholder_id",
            "stakeholder_name",
            "stakeholder_role",
            "comment",
            "from_status",
            "to_status",
            "created_at",
            "changes",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.Serializer):
    """One email of the bill's invoice or credit note (the outbox, issue 12)."""

    key = serializers.UUIDField(help_text="The idempotency key; the email's Message-ID.")
    document = serializers.SerializerMethodField(help_text='"invoice" or "credit_note".')
    number = serializers.SerializerMethodField(help_text="The document's number.")
    to_email = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "sending", "delivered", "failed"])
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(help_text='Why the last attempt failed ("" if none).')
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)

    def get_document(self, delivery) -> str:
        return "credit_note" if delivery.credit_note_id else "invoice"

    def get_number(self, delivery) -> str:
        document = delivery.credit_note if delivery.credit_note_id else delivery.invoice
        return document.number


class BillDetailSerializer(BillSerializer):
    actions = BillActionSerializer(many=True, read_only=True, help_text="Oldest first.")
    deliveries = DeliverySerializer(
        many=True, read_only=True, help_text="Its documents' emails, newest first."
    )
    payments = PaymentSerializer(
        many=True, read_only=True, help_text="Undone ones too (`counts`: false), by date received."
    )

    class Meta(BillSerializer.Meta):
        fields = [*BillSerializer.Meta.fields, "actions", "payments", "deliveries"]
        read_only_fields = fields


class SkippedCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GenerationSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    skipped = serializers.IntegerField()
    skipped_reasons = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Skipped customers by reason: "no overage", "already billed", '
        '"not under contract", "amount rounds to 0.00".',
    )
    skipped_customers = serializers.DictField(
        child=SkippedCustomerSerializer(many=True),
        help_text="The skipped customers by reason, `{id, name}`, by name: the first 100 of "
        "each reason (skipped_reasons has the full counts).",
    )


class BulkOutcomeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(
        choices=["approved", "rejected", "sent", "skipped", "failed"],
        help_text="The action done; skipped: not tried (see detail); failed: the bill's "
        "service refused it when it was tried.",
    )
    status = serializers.CharField(allow_null=True, help_text="The bill's status now.")
    detail = serializers.CharField(help_text="What happened, or why it was skipped.")


class BulkResultSerializer(serializers.Serializer):
    results = BulkOutcomeSerializer(many=True, help_text="One per distinct id, in the order sent.")
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Outcomes by kind, every kind present: {"approved": 3, "skipped": 1, '
        '"failed": 0}.',
    )


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="JobResult",
        serializers=[GenerationSerializer, BulkResultSerializer],
        resource_type_field_name=None,
    )
)
class JobResultField(serializers.JSONField):
    """A job's result: a month end's GenerationResult or a bulk send's BulkResult."""


class JobSerializer(serializers.Serializer):
    """Work run by the worker (issue 12), a month end or a bulk send: its progress, then its
    result or error."""

    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["generate", "bulk_send"])
    year = serializers.IntegerField(allow_null=True, help_text="A month end's month.")
    month = serializers.IntegerField(allow_null=True, help_text="A month end's month.")
    status = serializers.ChoiceField(choices=["queued", "running", "succeeded", "failed"])
    total = serializers.IntegerField(
        allow_null=True,
        help_text="Customers (a month end; null until the worker has read them) or bills (a "
        "bulk send) to go through.",
    )
    processed = serializers.IntegerField(help_text="How many of `total` are done.")
    result = JobResultField(
        allow_null=True,
        help_text="Once succeeded. A month end: {created, skipped, skipped_reasons, "
        "skipped_customers}. A bulk send: {results, counts}.",
    )
    error = serializers.CharField(help_text='Why it failed ("" unless failed).')
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


# --- input ---------------------------------------------------------------------------------


# JSON integers only (core.numbers): "2026", 2026.0 or true is a 400 naming the field.
def _year(**kwargs):
    return WholeNumberField(
        min_value=periods.MIN_YEAR,
        max_value=periods.MAX_YEAR,
        range_message=periods.YEAR_RANGE,
        **kwargs,
    )


def _month(**kwargs):
    return WholeNumberField(min_value=1, max_value=12, range_message=periods.MONTH_RANGE, **kwargs)


class BillCreateSerializer(StrictSerializer):
    customer_id = id_field()
    year = _year()
    month = _month(help_text="A month that has ended.")


class GenerateSerializer(StrictSerializer):
    year = _year()
    month = _month(help_text="A month that has ended.")


class ApproveSerializer(VersionedSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(VersionedSerializer):
    comment = serializers.CharField(allow_blank=True, help_text="Required, not blank.")


class BillUpdateSerializer(VersionedSerializer):
    comment = serializers.CharField(allow_blank=True, help_text="Required: why the update.")
    overage_unit_cost = DecimalTextField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A new price per call for this bill only (at most 6 decimal places). Left "
        "out: recompute from the customer's current usage, limit and price.",
    )
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true to go ahead with a reprice that changes the amount more than ten times "
        "(up or down) or to more than 1,000,000.00; without it such a reprice is a 400 naming "
        "`confirm`.",
    )


class NoBodySerializer(StrictSerializer):
    """No fields; an empty body or {}."""


class VersionOnlySerializer(VersionedSerializer):
    """An empty body, {} or {"version": 3} (bills.api_version)."""
