"""Bulk actions in the API (SPEC "JSON API": bulk approve, reject, send): ids in, one outcome
per id out. POST /api/bills/bulk/{action} acts; POST /api/bills/bulk/{action}/preview answers
what it would do and writes nothing. The rules are bills.services.bulk's (which calls the
single-bill services); this module parses the body and shapes the answer. docs/api.md.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import RoleAllows
from billing_site.core.api import WRITE_ERRORS, StrictSerializer, error_responses, id_field
from bills.serializers import BulkResultSerializer, JobSerializer
from bills.services import lifecycle
from bills.services.bulk import MAX_BULK_IDS, bulk_apply, bulk_counts, bulk_preview
from bills.services.jobs import bulk_send_start

TAGS = ["bills"]

# --- bodies --------------------------------------------------------------------------------


def _ids():
    return serializers.ListField(
        child=id_field(),
        allow_empty=False,
        max_length=MAX_BULK_IDS,
        error_messages={
            "empty": "Choose at least one bill id.",
            "max_length": f"At most {MAX_BULK_IDS} bill ids at a time; send them in smaller "
            "groups.",
        },
        help_text=f"Bill ids, JSON integers, 1 to {MAX_BULK_IDS}; a repeated id counts once.",
    )


@extend_schema_field({"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}})
class BulkVersionsField(serializers.Field):
    """{"12": 3, ...}: bill id -> the version decided on. One flat message when it is wrong."""

    default_error_messages = {
        "invalid": 'Send the versions as {{"bill id": version, ...}}, each version a whole '
        "number from 1."
    }

    def to_internal_value(self, data) -> dict[int, int]:
        if not isinstance(data, dict):
            self.fail("invalid")
        versions = {}
        for key, version in data.items():
            if not (str(key).isascii() and str(key).isdigit()):
                self.fail("invalid")
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                self.fail("invalid")
            versions[int(key)] = version
        return versions

    def to_representation(self, value):
        return value


def _versions():
    return BulkVersionsField(
        required=False,
        default=dict,
        help_text='Optional: the `version` of each bill you decided on, by id ({"12": 3}); a '
        "bill that changed since fails with the 409 sentence (docs/api.md, Versions).",
    )


class BulkDecisionSerializer(StrictSerializer):
    ids = _ids()
    versions = _versions()
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Approve: optional, kept in each bill's history. Reject: required, one "
        "comment for every bill. Ignored by the preview.",
    )


class BulkSendSerializer(StrictSerializer):
    ids = _ids()
    versions = _versions()


# --- answers (for the OpenAPI document) -----------------------------------------------------


class BulkPreviewItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["ready", "skipped"])
    status = serializers.CharField(allow_null=True)
    detail = serializers.CharField(help_text="What will be done, or why it will be skipped.")


class BulkTotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=40, decimal_places=2, coerce_to_string=True)


class BulkPreviewSerializer(serializers.Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField(help_text="How many bills the action will be taken on.")
    totals = BulkTotalSerializer(
        many=True, help_text="Their exact total amount, per currency (by code)."
    )
    results = BulkPreviewItemSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())


# --- views ---------------------------------------------------------------------------------


class BulkView(APIView):
    """POST /api/bills/bulk/<action>: the role is checked for the action at all (403) before
    the body is read, then per bill by the services."""

    permission_classes = [IsAuthenticated, RoleAllows]
    action_name: str
    input_serializer: type[StrictSerializer]

    @property
    def role_perms(self):
        return {"POST": lifecycle.TRANSITIONS[self.action_name].perm}

    def body(self, request) -> dict:
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def post(self, request):
        data = self.body(request)
        if self.action_name == "send":
            # Sends run in the worker (issue 12): 202 with the job, GET /api/jobs/{id} after.
            job = bulk_send_start(
                user=request.user, bill_ids=data["ids"], versions=data.get("versions", {})
            )
            response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
            response["Location"] = f"/api/jobs/{job.pk}"
            return response
        outcomes = bulk_apply(
            user=request.user,
            action=self.action_name,
            bill_ids=data["ids"],
            comment=data.get("comment", ""),
            versions=data.get("versions", {}),
        )
        return Response(
            {
                "results": [o.as_dict() for o in outcomes],
                "counts": bulk_counts(action=self.action_name, outcomes=outcomes),
            }
        )


class BulkPreviewView(BulkView):
    def post(self, request):
        data = self.body(request)
        preview = bulk_preview(user=request.user, action=self.action_name, bill_ids=data["ids"])
        return Response(
            {
                "action": self.action_name,
                "count": preview.count,
                "totals": [
                    {"currency": t.currency, "count": t.count, "amount": str(t.amount)}
                    for t in preview.totals
                ],
                "results": [item.as_dict() for item in preview.items],
                "counts": {"ready": preview.count, "skipped": len(preview.skipped)},
            }
        )


WHO = {"approve": "Sales, or the customers' CSM", "reject": "Sales, or the customers' CSM"}
WHAT = {
    "approve": "Gives the caller's approval to each draft, as PATCH /api/bills/{id}/approve "
    "does; a bill with suspicious usage is skipped (approve it on its own, with a comment).",
    "reject": "Rejects each draft with the one comment (required), as PATCH "
    "/api/bills/{id}/reject does.",
    "send": "Sends each approved bill, as PATCH /api/bills/{id}/send does (its invoice email "
    "queued), as background work: the answer is 202 with the job (`Location`: /api/jobs/{id}), "
    "whose `result`, once succeeded, is the outcomes the other bulk actions answer at once.",
}


def _views(action: str, serializer: type[StrictSerializer]) -> tuple[type, type]:
    who = WHO.get(action, "Finance")
    act = extend_schema(
        tags=TAGS,
        summary=f"Bulk {action} ({who})",
        description=f"{WHAT[action]} Each bill in its own transaction: one bill's refusal "
        "undoes nothing of the others. One outcome per distinct id; 400 naming `ids` "
        f"(not a list of JSON integers, empty, more than {MAX_BULK_IDS}) or `comment`; 403 for "
        "a role that may not take this action on any bill.",
        request=serializer,
        responses={
            (202 if action == "send" else 200): (
                JobSerializer if action == "send" else BulkResultSerializer
            ),
            **error_responses(*WRITE_ERRORS),
        },
    )
    look = extend_schema(
        tags=TAGS,
        summary=f"Preview a bulk {action} ({who})",
        description="What POST /api/bills/bulk/"
        f"{action} would do with the same body, writing nothing: each id ready or skipped "
        "with the reason, and how many bills and what total amount per currency it would act "
        "on. The same 400 and 403 as the action.",
        request=serializer,
        responses={200: BulkPreviewSerializer, **error_responses(*WRITE_ERRORS)},
    )
    attrs = {"action_name": action, "input_serializer": serializer}

    # A function of its own per view: extend_schema annotates the function it is given.
    def post(self, request):
        return BulkView.post(self, request)

    def post_preview(self, request):
        return BulkPreviewView.post(self, request)

    view = type(f"Bulk{action.title()}View", (BulkView,), {**attrs, "post": act(post)})
    preview = type(
        f"Bulk{action.title()}PreviewView",
        (BulkPreviewView,),
        {**attrs, "post": look(post_preview)},
    )
    return view, preview


SERIALIZERS = {
    "approve": BulkDecisionSerializer,
    "reject": BulkDecisionSerializer,
    "send": BulkSendSerializer,
}

# Included by billing_site/api_urls.py (app "api"): bills/bulk/approve, .../approve/preview, ...
urlpatterns = []
for _action, _serializer in SERIALIZERS.items():
    _act, _look = _views(_action, _serializer)
    urlpatterns += [
        path(f"bills/bulk/{_action}", _act.as_view(), name=f"bills-bulk-{_action}"),
        path(
            f"bills/bulk/{_action}/preview",
            _look.as_view(),
            name=f"bills-bulk-{_action}-preview",
        ),
    ]
