"""Usage: the list (and its CSV), and the all-or-nothing batch write."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import RoleAllows
from accounts.roles import Perm
from billing_site.core import periods
from billing_site.core.api import (
    CSVExportMixin,
    Int64Field,
    ModelSerializer,
    WholeNumberField,
    csv_response,
    domain_error_response,
    error_responses,
    id_field,
    iso_datetime,
)
from billing_site.core.errors import DomainError
from billing_site.core.filters import FilterSetBackend
from billing_site.core.pagination import PagePagination
from usage.filters import UsageFilterSet
from usage.models import Usage
from usage.selectors import usage_list
from usage.services import MAX_ITEMS, usage_record_many

TAGS = ["usage"]


class UsageSerializer(ModelSerializer):
    customer_id = Int64Field(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Usage
        fields = [
            "id",
            "customer_id",
            "customer_name",
            "year",
            "month",
            "api_usage",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class UsageItemSerializer(serializers.Serializer):
    # The OpenAPI shape of an item; usage.services validates each item itself.
    customer_id = id_field()
    year = WholeNumberField(min_value=periods.MIN_YEAR, max_value=periods.MAX_YEAR)
    month = WholeNumberField(min_value=1, max_value=12)
    api_usage = Int64Field(min_value=0, help_text="The month's total API calls (64-bit).")


class UsageBatchSerializer(serializers.Serializer):
    """One usage item, or a list of 1 to 10,000 of them."""


class UsageBatchExtension(OpenApiSerializerExtension):
    target_class = UsageBatchSerializer

    def map_serializer(self, auto_schema, direction):
        item = auto_schema.resolve_serializer(UsageItemSerializer, direction).ref
        return {
            "oneOf": [
                item,
                {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_ITEMS},
            ]
        }


class UsageBatchErrorsSerializer(serializers.Serializer):
    """{"items": {"<index>": {"<field>": ["message"]}}}, or {"detail": "..."}."""


class UsageBatchErrorsExtension(OpenApiSerializerExtension):
    target_class = UsageBatchErrorsSerializer

    def map_serializer(self, auto_schema, direction):
        field_errors = {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
        return {
            "type": "object",
            "description": 'Bad items by their index in the list (a single object is item "0"), '
            'each with its bad fields, e.g. {"items": {"3": {"api_usage": ["Enter a whole '
            'number as a JSON integer, not the decimal number 1.5."]}}}; nothing was written. '
            "A batch that is wrong as a whole (empty, over 10,000 items, not JSON) gets "
            '{"detail": "..."}.',
            "properties": {
                "detail": {"type": "string"},
                "items": {"type": "object", "additionalProperties": field_errors},
            },
        }


class UsageResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Customer-months recorded for the first time.")
    updated = serializers.IntegerField(help_text="Customer-months whose total was replaced.")


def _batch_error_body(error: DomainError) -> dict | None:
    if error.kind != "invalid":
        return None
    if error.errors and all(str(key).isdigit() for key in error.errors):
        return {"items": error.errors}
    return {"detail": error.message}


class FilteredUsageView(GenericAPIView):
    """The usage rows of usage.filters.UsageFilterSet: its query parameters are the filters."""

    filter_backends = [FilterSetBackend]
    filterset_class = UsageFilterSet

    def get_queryset(self):
        return usage_list()


class UsageView(FilteredUsageView):
    pagination_class = PagePagination
    permission_classes = [IsAuthenticated, RoleAllows]
    role_perms = {"POST": Perm.RECORD_USAGE}

    @extend_schema(
        tags=TAGS,
        summary="Usage",
        description="Newest month first, then by customer name. Filters combine (AND).",
        responses={200: UsageSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(UsageSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Record usage (Finance)",
        description="Sets each customer-month's total (creating or replacing it). All or "
        "nothing: if any item is bad, the 400 names each bad item by index and field and "
        "nothing is written. A month can be recorded once it has started.",
        request=UsageBatchSerializer,
        responses={
            200: UsageResultSerializer,
            400: OpenApiResponse(
                UsageBatchErrorsSerializer, description="Bad items; none written."
            ),
            **error_responses(401, 403, 413, 415),
        },
    )
    def post(self, request):
        items = [request.data] if isinstance(request.data, dict) else request.data
        try:
            result = usage_record_many(items=items, user=request.user)
        except DomainError as error:
            return domain_error_response(error, _batch_error_body(error))
        return Response({"created": result.created, "updated": result.updated})


class UsageCSVView(CSVExportMixin, FilteredUsageView):
    pagination_class = None

    @extend_schema(
        tags=TAGS,
        summary="Usage as CSV",
        description="The same rows and filters as GET /api/usage, unpaginated, streamed.",
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="customer_id,customer_name,year,month,api_usage,updated_at",
            ),
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        usage = self.filter_queryset(self.get_queryset())
        rows = (
            [
                u.customer_id,
                u.customer.name,
                u.year,
                u.month,
                u.api_usage,
                iso_datetime(u.updated_at),
            ]
            for u in usage.iterator(chunk_size=2000)
        )
        header = ["customer_id", "customer_name", "year", "month", "api_usage", "updated_at"]
        return csv_response("usage.csv", header, rows)
