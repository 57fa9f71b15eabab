"""Customers, read-only: the list (search, CSM, approval policy) and one customer with its last
12 months of usage and its bills."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api import Int64Field, ModelSerializer, error_responses
from billing_site.core.errors import DomainError
from billing_site.core.filters import FilterSetBackend
from billing_site.core.pagination import PagePagination
from bills.selectors import bill_list_of_customer
from bills.serializers import BillSummarySerializer
from customers.filters import CustomerFilterSet
from customers.models import Customer, CustomerTerms
from customers.selectors import customer_get, customer_list, customer_terms_list
from usage.selectors import usage_recent, with_current_usage

TAGS = ["customers"]


class CustomerSerializer(ModelSerializer):
    csm_id = Int64Field(read_only=True, allow_null=True)
    csm_name = serializers.CharField(
        source="csm.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "billing_address",
            "billing_email",
            "csm_id",
            "csm_name",
            "monthly_api_limit",
            "overage_unit_cost",
            "require_csm_approval",
            "start_date",
            "end_date",
        ]
        read_only_fields = fields


class CustomerListItemSerializer(CustomerSerializer):
    current_usage = Int64Field(
        read_only=True,
        allow_null=True,
        help_text="API calls recorded for the current month so far (null: none recorded).",
    )

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "current_usage"]
        read_only_fields = fields


class UsageMonthSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    api_usage = Int64Field()


class TermsVersionSerializer(ModelSerializer):
    effective_from = serializers.CharField(
        source="effective_period", read_only=True, help_text="YYYY-MM: in force from this month."
    )

    class Meta:
        model = CustomerTerms
        fields = [
            "effective_from",
            "monthly_api_limit",
            "overage_unit_cost",
            "require_csm_approval",
        ]
        read_only_fields = fields


class CustomerDetailSerializer(CustomerSerializer):
    terms = serializers.SerializerMethodField(
        help_text="The terms versions, newest first, each in force from its month until the "
        "next; empty when the terms never changed (the customer's own apply to every month)."
    )
    usage = serializers.SerializerMethodField(
        help_text="The last 12 months up to the current one that have usage, oldest first."
    )
    bills = serializers.SerializerMethodField(help_text="Newest period first.")

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "terms", "usage", "bills"]
        read_only_fields = fields

    @extend_schema_field(TermsVersionSerializer(many=True))
    def get_terms(self, customer):
        return TermsVersionSerializer(self.context["terms"], many=True).data

    @extend_schema_field(UsageMonthSerializer(many=True))
    def get_usage(self, customer):
        return UsageMonthSerializer(self.context["usage"], many=True).data

    @extend_schema_field(BillSummarySerializer(many=True))
    def get_bills(self, customer):
        return BillSummarySerializer(self.context["bills"], many=True).data


class CustomerListView(GenericAPIView):
    pagination_class = PagePagination
    filter_backends = [FilterSetBackend]
    filterset_class = CustomerFilterSet

    def get_queryset(self):
        return customer_list()

    @extend_schema(
        tags=TAGS,
        summary="Customers",
        description="By name. Filters combine (AND).",
        responses={200: CustomerListItemSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        customers = with_current_usage(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(customers)
        return self.get_paginated_response(CustomerListItemSerializer(page, many=True).data)


class CustomerDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A customer, with its recent usage and its bills",
        responses={200: CustomerDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request, pk: int):
        customer = customer_get(pk)
        if customer is None:
            raise DomainError(f"Customer #{pk} does not exist.", kind="not_found")
        context = {
            "terms": customer_terms_list(customer_id=customer.pk),
            "usage": usage_recent(customer_id=customer.pk),
            "bills": bill_list_of_customer(customer.pk),
        }
        return Response(CustomerDetailSerializer(customer, context=context).data)
