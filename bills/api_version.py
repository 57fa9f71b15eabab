"""The bill version a client decided on (SPEC "Bill lifecycle"): `version` in a write's body, or
an `If-Match` header. Without either, a write acts on the bill as it is then (old clients keep
working); with one, a bill that changed since is a 409 (bills.services.lifecycle.check_version).
"""

from __future__ import annotations

from rest_framework import serializers

from billing_site.core.api import StrictSerializer
from billing_site.core.errors import DomainError
from bills.services.lifecycle import parse_version

VERSION_HELP = (
    "The bill's `version` you decided on (from GET /api/bills/{id}); a bill that changed since "
    "answers 409 and nothing is done. Or send it as an If-Match header. Left out: the action "
    "applies to the bill as it is then, so racing clients should send it."
)


class VersionedSerializer(StrictSerializer):
    version = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text=VERSION_HELP
    )


def request_version(request, body_version: int | None) -> int | None:
    """The version a write decided on: the body's `version`, else the If-Match header's (a
    number, quoted or not; "*" means any), else None.

    Raises DomainError(kind="invalid") naming "version" when the header is not a version or
    disagrees with the body.
    """
    header = request.headers.get("If-Match", "").strip()
    if header.startswith("W/"):
        header = header[2:]
    header_version = None if header in ("", "*") else parse_version(header)
    if body_version is not None and header_version not in (None, body_version):
        raise DomainError.invalid(
            f"The body says version {body_version} and If-Match says {header_version}: send one.",
            "version",
        )
    return body_version if body_version is not None else header_version
