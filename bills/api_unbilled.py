"""GET /api/bills/unbilled: customer-months over the limit with no live bill, and why
(bills.unbilled; docs/api.md "Unbilled overage")."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from billing_site.core.api import Int64Field, error_responses
from billing_site.core.filters import FilterSetBackend
from billing_site.core.pagination import PagePagination
from bills.unbilled import REASONS, UnbilledFilterSet, unbilled_overage_list, unbilled_rows


class UnbilledSerializer(serializers.Serializer):
    customer_id = Int64Field()
    customer_name = serializers.CharField()
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    api_usage = Int64Field(help_text="The month's recorded API calls.")
    monthly_api_limit = Int64Field(help_text="The limit of the terms in force for the month.")
    overage_units = Int64Field(help_text="Calls over the limit.")
    overage_unit_cost = serializers.DecimalField(
        max_digits=14, decimal_places=6, help_text="The month's price per call."
    )
    estimated_amount = serializers.DecimalField(
        max_digits=29,
        decimal_places=2,
        help_text="What a bill would charge now: overage_units x overage_unit_cost, rounded "
        "half-up to cents (never 0.00: those are not listed).",
    )
    currency = serializers.CharField(help_text="ISO 4217 code of the amounts.")
    reason = serializers.ChoiceField(choices=list(REASONS.items()))
    reason_label = serializers.CharField(help_text="The reason in words.")
    void_bill_id = Int64Field(
        allow_null=True,
        help_text="For reason voided: the void bill to re-bill (POST /api/bills/{id}/rebill).",
    )


class UnbilledListView(GenericAPIView):
    pagination_class = PagePagination
    filter_backends = [FilterSetBackend]
    filterset_class = UnbilledFilterSet

    def get_queryset(self):
        return unbilled_overage_list()

    @extend_schema(
        tags=["bills"],
        summary="Unbilled overage",
        description="Customer-months of ended months whose usage is over the limit of the terms "
        "in force for the month, with an amount that does not round to 0.00, and no live bill "
        "(void ones do not count). `reason`: not_generated (under contract, never billed: "
        "generate the month), not_under_contract (the contract does not cover the month), "
        "voided (its bills are void and nothing replaced the last: re-bill `void_bill_id`). "
        "Newest month first, then by customer name. The month in progress is never listed.",
        responses={200: UnbilledSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(UnbilledSerializer(unbilled_rows(page), many=True).data)
