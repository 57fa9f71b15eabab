"""GET /api/bills/awaiting: how many bills wait on the caller's approval (bills.queue), the
number the pages show beside "Dashboard". The bills themselves: GET /api/bills?awaiting=me."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api import error_responses
from bills.queue import bill_awaiting_count


class AwaitingCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        min_value=0,
        help_text="Drafts that still need the caller's approval; always 0 for Finance.",
    )


class AwaitingCountView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["bills"],
        summary="How many bills wait for my approval",
        description="The count of GET /api/bills?awaiting=me, in one query: for Sales the "
        "drafts without a Sales approval, for Customer Success those of the customers they "
        "manage or with no CSM without the CSM approval (a bill needing one approval leaves "
        "every queue once Sales or the CSM approves it). Finance: always 0.",
        responses={200: AwaitingCountSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response({"count": bill_awaiting_count(request.user)})
