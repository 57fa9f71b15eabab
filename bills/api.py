"""Bills: list (and CSV), detail with history, create, generate a month, and the workflow.

Each write parses its body, calls one bills.services function and answers the bill as it now
is; the services decide every rule and raise DomainError, which billing_site.core.api maps.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import RoleAllows
from accounts.roles import Perm
from billing_site.core.api import (
    WRITE_ERRORS,
    CSVExportMixin,
    StrictSerializer,
    csv_response,
    error_responses,
)
from billing_site.core.errors import DomainError
from billing_site.core.filters import FilterSetBackend
from billing_site.core.pagination import PagePagination
from bills import services
from bills.api_version import request_version
from bills.filters import BillFilterSet
from bills.paging import bill_pages
from bills.selectors import bill_get, bill_list
from bills.serializers import (
    ApproveSerializer,
    BillCreateSerializer,
    BillDetailSerializer,
    BillSerializer,
    BillSummarySerializer,
    BillUpdateSerializer,
    CommentSerializer,
    GenerateSerializer,
    JobSerializer,
    VersionOnlySerializer,
)
from bills.serializers_rows import bill_list_rows, bill_summary_row, related_or_none

TAGS = ["bills"]


# --- views ---------------------------------------------------------------------------------


def _bill_response(pk: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(BillDetailSerializer(bill_get(pk)).data, status=code)


def _parse(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# The CSV's columns are the list's bill JSON fields, in the same order, then where the invoice
# is addressed (as sent, or the customer's address for a bill not sent).
BILL_CSV_HEADER = [*BillSummarySerializer.Meta.fields, "billing_address"]


def _csv_cell(value):
    # A JSON value as a CSV cell: null is an empty cell, a flag "true" or "false".
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _csv_row(b) -> list:
    # The list's JSON fields (serializers_rows.bill_summary_row), then the invoice's address.
    invoice = related_or_none(b, "invoice")
    address = invoice.bill_to_address if invoice else b.customer.billing_address
    return [*(_csv_cell(v) for v in bill_summary_row(b).values()), address]


class FilteredBillsView(GenericAPIView):
    """The bills of bills.filters.BillFilterSet: its query parameters are the filters."""

    filter_backends = [FilterSetBackend]
    filterset_class = BillFilterSet

    def get_queryset(self):
        return bill_list()


class BillListView(FilteredBillsView):
    pagination_class = PagePagination
    permission_classes = [IsAuthenticated, RoleAllows]
    role_perms = {"POST": Perm.CREATE_BILL}

    @extend_schema(
        tags=TAGS,
        summary="Bills",
        description="Newest period first, then by customer name, unless `sort` says otherwise. "
        "Filters combine (AND).",
        responses={200: BillSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(bill_pages(self.filter_queryset(self.get_queryset())))
        # bill_list_rows: BillSerializer's rows, built directly (a test holds them equal).
        return self.get_paginated_response(bill_list_rows(page))

    @extend_schema(
        tags=TAGS,
        summary="Bill one customer-month (Finance)",
        description="400 when the month has not ended, the customer is not under contract "
        "then, or there is no overage; 409 when a bill (not void) exists for that month.",
        request=BillCreateSerializer,
        responses={201: BillDetailSerializer, **error_responses(*WRITE_ERRORS, 409)},
    )
    def post(self, request):
        data = _parse(BillCreateSerializer, request)
        bill = services.bill_create(**data, user=request.user)
        return _bill_response(bill.pk, status.HTTP_201_CREATED)


class BillGenerateView(APIView):
    permission_classes = [IsAuthenticated, RoleAllows]
    role_perms = {"POST": Perm.GENERATE_BILLS}

    @extend_schema(
        tags=TAGS,
        summary="Generate a month's bills (Finance)",
        description="Starts the month end of a month that has ended, as background work: the "
        "answer is 202 with the job (`Location`: /api/jobs/{id}); `GET /api/jobs/{id}` gives "
        "its progress and, once succeeded, its result. A generation of the month already "
        "queued or running is answered instead of a second one. Idempotent: customers already "
        "billed for the month are skipped. In the result, `skipped_reasons` counts the skipped "
        "customers per reason; `skipped_customers` names them (`{id, name}`, by name, the "
        "first 100 of each reason).",
        request=GenerateSerializer,
        responses={202: JobSerializer, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request):
        data = _parse(GenerateSerializer, request)
        job = services.generation_start(year=data["year"], month=data["month"], user=request.user)
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"/api/jobs/{job.pk}"
        return response


class JobView(APIView):
    permission_classes = [IsAuthenticated, RoleAllows]
    role_perms = {"GET": Perm.GENERATE_BILLS}

    @extend_schema(
        tags=TAGS,
        summary="A background job: a month end or a bulk send (Finance)",
        description="Its status (queued, running, succeeded, failed), `processed` of `total` "
        "(customers or bills), and its result once succeeded or its error once failed.",
        responses={200: JobSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, job_id: str):
        job = services.job_get(job_id=job_id, user=request.user)
        return Response(JobSerializer(job).data)


class BillDetailView(APIView):
    permission_classes = [IsAuthenticated, RoleAllows]
    role_perms = {"PATCH": Perm.UPDATE_BILL}

    @extend_schema(
        tags=TAGS,
        summary="A bill and its history",
        responses={200: BillDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request, pk: int):
        bill = bill_get(pk)
        if bill is None:
            raise DomainError(f"Bill #{pk} does not exist.", kind="not_found")
        return Response(BillDetailSerializer(bill).data)

    @extend_schema(
        tags=TAGS,
        summary="Update a draft or rejected bill: recompute or reprice (Finance)",
        description="Recomputes the bill from the customer's current usage, limit and price, or "
        "reprices it with `overage_unit_cost`. The bill returns to draft and earlier approvals "
        "no longer count.",
        request=BillUpdateSerializer,
        responses={200: BillDetailSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def patch(self, request, pk: int):
        data = _parse(BillUpdateSerializer, request)
        data["version"] = request_version(request, data.get("version"))
        services.bill_update(bill=pk, user=request.user, **data)
        return _bill_response(pk)


class BillTransitionView(APIView):
    """PATCH /api/bills/{id}/<action>: parse the body, call the service, answer the bill."""

    permission_classes = [IsAuthenticated, RoleAllows]
    perm: Perm
    input_serializer: type[StrictSerializer]

    @property
    def role_perms(self):
        return {"PATCH": self.perm}

    def act(self, *, pk: int, user, **data) -> None:
        raise NotImplementedError

    def patch(self, request, pk: int):
        data = _parse(self.input_serializer, request)
        data["version"] = request_version(request, data.get("version"))
        self.act(pk=pk, user=request.user, **data)
        return _bill_response(pk)


def _transition_schema(summary: str, description: str, request, *extra_errors: int):
    return extend_schema_view(
        patch=extend_schema(
            tags=TAGS,
            summary=summary,
            description=description,
            request=request,
            responses={
                200: BillDetailSerializer,
                **error_responses(*WRITE_ERRORS, 404, 409, *extra_errors),
            },
        )
    )


@_transition_schema(
    "Approve (Sales, or the customer's CSM)",
    "A draft bill. It becomes approved once its approvals are complete (one, or the CSM's and "
    "a Sales user's when the customer requires CSM approval); until then it stays draft.",
    ApproveSerializer,
)
class BillApproveView(BillTransitionView):
    perm = Perm.APPROVE_BILL
    input_serializer = ApproveSerializer

    def act(self, *, pk, user, comment, version):
        services.bill_approve(bill=pk, user=user, comment=comment, version=version)


@_transition_schema(
    "Reject (Sales, or the customer's CSM)",
    "A draft bill becomes rejected: the overage is written off. A comment is required.",
    CommentSerializer,
)
class BillRejectView(BillTransitionView):
    perm = Perm.REJECT_BILL
    input_serializer = CommentSerializer

    def act(self, *, pk, user, comment, version):
        services.bill_reject(bill=pk, user=user, comment=comment, version=version)


@_transition_schema(
    "Undo the latest decision (whoever may approve the bill)",
    "An approved or rejected bill, or a draft with a partial approval, returns to draft and the "
    "undone decision no longer counts. A comment is required.",
    CommentSerializer,
)
class BillRevertView(BillTransitionView):
    perm = Perm.REVERT_BILL
    input_serializer = CommentSerializer

    def act(self, *, pk, user, comment, version):
        services.bill_revert(bill=pk, user=user, comment=comment, version=version)


@_transition_schema(
    "Send (Finance)",
    "An approved bill becomes sent: its invoice is issued and its email to the customer's "
    "billing email is queued in the same transaction. The worker delivers it, retrying with "
    "backoff; `deliveries` on the bill shows queued, delivered or failed.",
    VersionOnlySerializer,
)
class BillSendView(BillTransitionView):
    perm = Perm.SEND_BILL
    input_serializer = VersionOnlySerializer

    def act(self, *, pk, user, version):
        services.bill_send(bill=pk, user=user, version=version)


@_transition_schema(
    "Void (Finance)",
    "A sent bill becomes void: a credit note (its own gap-free number sequence, CN-2026-000001) "
    "cancels its invoice in full and its email to where the invoice went is queued (see "
    "`deliveries`); the customer-month may then be billed again (POST /api/bills/{id}/rebill). "
    "A comment is required: it is the credit note's reason.",
    CommentSerializer,
)
class BillVoidView(BillTransitionView):
    perm = Perm.VOID_BILL
    input_serializer = CommentSerializer

    def act(self, *, pk, user, comment, version):
        services.bill_void(bill=pk, user=user, comment=comment, version=version)


@_transition_schema(
    "Email the invoice again (Finance)",
    "Queues a new email of the bill's latest document (its credit note once void, else its "
    "invoice): the same PDF under a new delivery key. A 409 while an email of it is still "
    "queued or sending, or when the bill has no invoice.",
    VersionOnlySerializer,
)
class BillResendView(BillTransitionView):
    perm = Perm.SEND_BILL
    input_serializer = VersionOnlySerializer

    def act(self, *, pk, user, version):
        # The bill does not change, so its version is not checked.
        services.delivery_resend(bill=pk, user=user)


@_transition_schema(
    "Dismiss a usage change after sending (Finance)",
    "A sent bill whose month's usage changed afterwards is flagged (`usage_changed_after_sending`) "
    "until it is voided and re-billed, or this keeps the invoice as sent. A comment is required; "
    "the flag comes back if the usage changes again.",
    CommentSerializer,
)
class BillDismissView(BillTransitionView):
    perm = Perm.UPDATE_BILL
    input_serializer = CommentSerializer

    def act(self, *, pk, user, comment, version):
        services.bill_dismiss_usage_change(bill=pk, user=user, comment=comment, version=version)


class BillRebillView(APIView):
    permission_classes = [IsAuthenticated, RoleAllows]
    role_perms = {"POST": Perm.CREATE_BILL}

    @extend_schema(
        tags=TAGS,
        summary="Bill a void bill's month again (Finance)",
        description="Creates the new draft from the month's current usage and the customer's "
        "current terms, linked both ways (`replaces_id`, `replaced_by_id`); the void bill's "
        "history records it. 409 when the bill is not void or the month has a live bill; 400 "
        "when there is nothing to bill now.",
        request=VersionOnlySerializer,
        responses={201: BillDetailSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk: int):
        data = _parse(VersionOnlySerializer, request)
        version = request_version(request, data.get("version"))
        new = services.bill_rebill(bill=pk, user=request.user, version=version)
        return _bill_response(new.pk, status.HTTP_201_CREATED)


class BillCSVView(CSVExportMixin, FilteredBillsView):
    pagination_class = None

    @extend_schema(
        tags=TAGS,
        summary="Bills as CSV",
        description="The same rows, order and filters as GET /api/bills, unpaginated, streamed.",
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description=",".join(BILL_CSV_HEADER)
            ),
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        bills = self.filter_queryset(self.get_queryset())
        rows = (_csv_row(b) for b in bills.iterator(chunk_size=2000))
        return csv_response("bills.csv", BILL_CSV_HEADER, rows)
