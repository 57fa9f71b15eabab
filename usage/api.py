"""Usage: the list (and its CSV), and the all-or-nothing batch write."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

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
from usage.models import Usage, UsageRevision, UsageSource
from usage.overview import MonthForm, overview_of
from usage.selectors import usage_list, usage_pages, usage_revision_list
from usage.serializers import UsageSummarySerializer, summary_data
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
    unchanged = serializers.IntegerField(
        help_text="Items that set the total a customer-month already had: not written, no "
        "revision. Sending the same batch again gives only unchanged items."
    )


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
        page = self.paginate_queryset(usage_pages(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(UsageSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Record usage (Finance)",
        description="Sets each customer-month's total (creating or replacing it). All or "
        "nothing: if any item is bad, the 400 names each bad item by index and field (each "
        "message naming the bad value) and nothing is written. A month can be recorded once it "
        "has started. Only the months whose total changes are written, each with a revision "
        "(GET /api/usage/{id}/revisions) naming the token's user and the source api.",
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
            result = usage_record_many(items=items, user=request.user, source=UsageSource.API)
        except DomainError as error:
            return domain_error_response(error, _batch_error_body(error))
        return Response(result.as_dict())


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


class UsageRevisionSerializer(ModelSerializer):
    usage_id = Int64Field(read_only=True)
    user_id = Int64Field(read_only=True)
    user_name = serializers.CharField(source="user.name", read_only=True)
    old_value = Int64Field(
        read_only=True, allow_null=True, help_text="The total before; null: the month was new."
    )
    new_value = Int64Field(read_only=True, help_text="The total after (API calls).")
    source = serializers.ChoiceField(
        choices=UsageSource.choices,
        read_only=True,
        help_text="page (the record page's form), csv (a file uploaded there), api, admin, "
        "command (manage.py import_usage).",
    )
    file_name = serializers.CharField(read_only=True, help_text="The file, for csv and command.")

    class Meta:
        model = UsageRevision
        fields = [
            "id",
            "usage_id",
            "old_value",
            "new_value",
            "user_id",
            "user_name",
            "source",
            "file_name",
            "created_at",
        ]
        read_only_fields = fields


class UsageRevisionsView(GenericAPIView):
    pagination_class = PagePagination
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        summary="A month's revisions",
        description="Every change of one customer-month's total (the usage row `id` of GET "
        "/api/usage), newest first: the old and new values, who, when and from where. "
        "Revisions are append-only: nobody can edit or delete them.",
        responses={200: UsageRevisionSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, pk: int):
        if not Usage.objects.filter(pk=pk).exists():
            error = DomainError(f"Usage #{pk} does not exist.", kind="not_found")
            return domain_error_response(error)
        page = self.paginate_queryset(usage_revision_list(usage_id=pk))
        return self.get_paginated_response(UsageRevisionSerializer(page, many=True).data)


class UsageSummaryView(APIView):
    """GET /api/usage/summary: the usage overview of a month (usage.overview), as JSON."""

    @extend_schema(
        tags=TAGS,
        summary="Usage overview of a month",
        description="The figures of the /usage page: total calls, customers over and near their "
        "limit, the overage at current terms and how much of it is billed (by bill status), "
        "top consumers, growth on the month before, customers under contract without usage, "
        "suspicious months, and for the month in progress its run-rate projection. Without "
        "`year` and `month`, the current month (settings.TIME_ZONE); give both or neither.",
        parameters=[
            OpenApiParameter(
                "year",
                {"type": "integer", "minimum": periods.MIN_YEAR, "maximum": periods.MAX_YEAR},
                description="With `month`; digits only.",
            ),
            OpenApiParameter(
                "month",
                {"type": "integer", "minimum": 1, "maximum": 12},
                description="1 to 12, with `year`; not a month that has not started.",
            ),
        ],
        responses={200: UsageSummarySerializer, **error_responses(400, 401)},
    )
    def get(self, request):
        form = MonthForm(request.query_params, today=periods.today())
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        year, month = form.period()
        overview = overview_of(year=year, month=month, today=form.today)
        return Response(UsageSummarySerializer(summary_data(overview)).data)
