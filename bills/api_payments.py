"""Payments on a sent bill (Finance): record one, undo one. Each parses its body, calls one
bills.services.payments function and answers the bill as it now is, payments included."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import RoleAllows
from accounts.roles import Perm
from billing_site.core.api import WRITE_ERRORS, error_responses
from bills import services
from bills.api_version import request_version
from bills.selectors import bill_get
from bills.serializers import BillDetailSerializer
from bills.serializers_payments import PaymentRecordSerializer, PaymentUndoSerializer

TAGS = ["bills"]


def _parse(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _bill_response(pk: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(BillDetailSerializer(bill_get(pk)).data, status=code)


class BillPaymentsView(APIView):
    permission_classes = [IsAuthenticated, RoleAllows]
    role_perms = {"POST": Perm.RECORD_PAYMENT}

    @extend_schema(
        tags=TAGS,
        summary="Record a payment (Finance)",
        description="Money received against a sent bill's invoice. The bill stays `sent` until "
        "its payments cover `overage_amount`, then it is `paid`. 400 naming the field: an "
        "amount of 0 or less, with more than 2 decimals, or above the balance due (an "
        "overpayment is refused); a date in the future or before the invoice's issue date; "
        "a blank reference. 409 when the bill is not sent (draft, approved, rejected, paid or "
        "void). The history records `payment_recorded` with the payment in `changes`.",
        request=PaymentRecordSerializer,
        responses={201: BillDetailSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk: int):
        data = _parse(PaymentRecordSerializer, request)
        data["version"] = request_version(request, data.get("version"))
        services.payment_record(bill=pk, user=request.user, **data)
        return _bill_response(pk, status.HTTP_201_CREATED)


class BillPaymentUndoView(APIView):
    permission_classes = [IsAuthenticated, RoleAllows]
    role_perms = {"POST": Perm.RECORD_PAYMENT}

    @extend_schema(
        tags=TAGS,
        summary="Undo a payment (Finance)",
        description="The payment stays on record (`counts`: false, who undid it, when and the "
        "comment) and no longer counts; a paid bill whose payments no longer cover its amount "
        "is `sent` again. A comment is required. 404 when the bill has no such payment; 409 "
        "when it was already undone. The history records `payment_undone`.",
        request=PaymentUndoSerializer,
        responses={200: BillDetailSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk: int, payment_id: int):
        data = _parse(PaymentUndoSerializer, request)
        data["version"] = request_version(request, data.get("version"))
        services.payment_undo(bill=pk, payment=payment_id, user=request.user, **data)
        return _bill_response(pk)
