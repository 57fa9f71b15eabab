"""What every API view shares: the error mapping, the strict JSON parser, role checks, input
fields that leave the verdict to the services, and the error shapes the OpenAPI document shows.

DRF imports the renderer and parser named in settings from here while it defines APIView, so this
module must not import rest_framework.views at import time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import models
from django.http import StreamingHttpResponse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, parsers, renderers, serializers, status
from rest_framework.response import Response

from billing_site.core import numbers
from billing_site.core.errors import DomainError

MAX_DB_INT = numbers.MAX_INT64
BEARER_CHALLENGE = 'Bearer realm="api"'


# --- errors --------------------------------------------------------------------------------


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def domain_error_body(error: DomainError) -> dict[str, Any]:
    """400 names the fields when the service did; every other kind is {"detail": message}."""
    if error.kind == "invalid" and error.errors:
        return dict(error.errors)
    return {"detail": error.message}


def domain_error_response(error: DomainError, body: dict[str, Any] | None = None) -> Response:
    from rest_framework.views import set_rollback

    set_rollback()
    return Response(domain_error_body(error) if body is None else body, status=error.status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus DomainError -> its status and an oversized body -> 413 (not HTML)."""
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict):
        response.data = {field: _messages(errors) for field, errors in response.data.items()}
    return response


def _messages(errors: Any, prefix: str = "") -> list[str]:
    """A field's errors as the documented flat list of texts: a list's item errors ({index:
    [...]}, found by fuzzing) read "item 2: ...", counted from 1."""
    if isinstance(errors, dict):
        return [
            message
            for key, value in errors.items()
            for message in _messages(
                value,
                f"{prefix}item {int(key) + 1}: " if str(key).isdigit() else f"{prefix}{key}: ",
            )
        ]
    if isinstance(errors, list):
        return [message for error in errors for message in _messages(error, prefix)]
    return [f"{prefix}{errors}"]


# --- rendering and parsing ----------------------------------------------------------------


class SafeJSONRenderer(renderers.JSONRenderer):
    """UTF-8 JSON; a lone surrogate echoed from the input (legal in JSON text, not in UTF-8) is
    written as a \\u escape instead of failing the response."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)


class AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class StrictJSONParser(parsers.JSONParser):
    """JSON that nests too deeply for Python's parser is a 400 like any other malformed JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class StrictSerializer(serializers.Serializer):
    # Refuses fields it does not know instead of silently ignoring them. (A comment, not a
    # docstring: the OpenAPI document would show it as every request body's description.)

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key[:100]: ["Unknown field."] for key in unknown}
                )
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.STR)
class TextField(serializers.Field):
    """A JSON string handed to the service as sent; the service says what is valid."""

    default_error_messages = {"invalid": "Enter text.", "unicode": "Enter valid Unicode text."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no database column can store it
            self.fail("unicode")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string", "format": "decimal", "example": "0.0025"})
class DecimalTextField(serializers.Field):
    """A decimal as a JSON string (an integer is accepted too); the service parses it exactly."""

    default_error_messages = {"invalid": 'Send a decimal string, e.g. "0.0025".'}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return str(value)


def parse_query(serializer_class: type[serializers.Serializer], request) -> dict[str, Any]:
    """The query string, validated by a serializer whose fields are the endpoint's filters;
    a bad value is a 400 naming the parameter. Parameters it does not name are ignored."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class WholeNumberField(serializers.IntegerField):
    """A count, id, year or month in a JSON body: a JSON integer only (core.numbers.parse_json).
    DRF's IntegerField reads "12", 12.0 and "12.0" as 12; this refuses them with a 400 naming
    the field and what was sent. `range_message` words the bounds (e.g. periods.YEAR_RANGE)."""

    def __init__(self, *, range_message: str | None = None, **kwargs):
        self.range_message = range_message
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return numbers.parse_json(
                data,
                min_value=self.min_value,
                max_value=self.max_value,
                range_message=self.range_message,
            )
        except numbers.WholeNumberError as error:
            raise serializers.ValidationError(error.message, code=error.code) from None


class Int64Field(WholeNumberField):
    """A 64-bit count or id, written as a JSON number (the bound makes the schema say int64)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_DB_INT)
        super().__init__(**kwargs)


class ModelSerializer(serializers.ModelSerializer):
    # For output: 64-bit model columns are documented as int64. (A comment: a docstring would
    # become every component's description in the OpenAPI document.)

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BigIntegerField: Int64Field,
        models.BigAutoField: Int64Field,
    }


def id_field(**kwargs) -> WholeNumberField:
    """An id: bounded to the 64-bit column so PostgreSQL never sees an out-of-range number."""
    kwargs.setdefault("range_message", numbers.ID_RANGE)
    return Int64Field(min_value=1, max_value=MAX_DB_INT, **kwargs)


# --- error shapes for the OpenAPI document ---------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")


class FieldErrorsSerializer(serializers.Serializer):
    """{"field": ["message", ...]} for each bad field, or {"detail": "..."}."""


class FieldErrorsExtension(OpenApiSerializerExtension):
    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": 'Each bad field with its messages, e.g. {"month": ["Enter a month '
            'from 1 to 12."]}; a request that is wrong as a whole (malformed JSON, a bad '
            'Content-Type) gets {"detail": "..."} instead.',
            "properties": {"detail": {"type": "string"}},
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }


ERROR_DESCRIPTIONS = {
    400: "Bad input: the fields named, or malformed JSON.",
    401: "Not logged in, or the session or token is no longer valid.",
    403: "Your role may not do this (or a session-cookie request lacks its CSRF token).",
    404: "No such id (or page).",
    409: "The bill's status does not allow this action.",
    413: "The request body is larger than the server accepts.",
    415: "The body is not JSON (send Content-Type: application/json).",
    429: "Too many attempts; the Retry-After header says how many seconds to wait.",
    502: "The invoice email could not be delivered; the bill stays approved.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses of an endpoint, e.g. error_responses(400, 401, 403)."""
    return {
        code: OpenApiResponse(
            FieldErrorsSerializer if code == 400 else ErrorSerializer,
            description=ERROR_DESCRIPTIONS[code],
        )
        for code in codes
    }


WRITE_ERRORS = (400, 401, 403, 413, 415)


# --- CSV -----------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    # A text cell starting like a formula would run in a spreadsheet; prefix it (OWASP advice).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


_DATETIME = serializers.DateTimeField()


def iso_datetime(value) -> str:
    """A timestamp written exactly as the JSON API writes it ("2026-11-22T02:50:27.210085Z")."""
    return _DATETIME.to_representation(value)


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]):
    """Streams rows as they come from the database (the caller passes a .iterator())."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CSVExportMixin:
    """For an APIView that answers text/csv whatever the Accept header says; errors stay JSON."""

    def perform_content_negotiation(self, request, force=False):
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type
