"""The OpenAPI document: valid, complete (every URL and method under /api/), honest about
errors; and the interactive docs served from local files."""

from __future__ import annotations

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

SELF = {"/api/schema/", "/api/docs/"}  # the document and its viewer do not describe themselves


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield "/" + route, pattern.callback


def _api_operations() -> set[tuple[str, str]]:
    operations = set()
    for route, callback in _routes(get_resolver().url_patterns):
        if not route.startswith("/api/") or route in SELF:
            continue
        path = re.sub(
            r"<(?:int|str):(\w+)>", lambda m: "{id}" if m[1] == "pk" else f"{{{m[1]}}}", route
        )
        view = callback.view_class
        for method in view.http_method_names:
            if method not in ("options", "head") and hasattr(view, method):
                operations.add((path, method))
    return operations


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_every_api_url_and_method_is_in_the_schema(schema):
    operations = _api_operations()
    assert len(operations) >= 20  # the walk really found the API
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations - documented == set()
    assert documented - operations == set()


def test_every_operation_documents_its_errors(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            where = f"{method.upper()} {path}"
            public = {} in operation.get("security", [])
            if not public:
                assert "401" in codes, where
            if "{id}" in path:
                assert "404" in codes, where
            queries = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if method in ("post", "patch") or queries:
                assert "400" in codes, where
            if method == "patch" and path.startswith("/api/bills/"):
                assert {"400", "403", "404", "409"} <= codes, where


def test_bill_schema_has_the_documented_fields(schema):
    bill = schema["components"]["schemas"]["Bill"]
    assert list(bill["properties"]) == [
        "id",
        "customer_id",
        "customer_name",
        "year",
        "month",
        "api_usage",
        "monthly_api_limit",
        "overage_units",
        "overage_unit_cost",
        "overage_amount",
        "currency",
        "status",
        "approvals_needed",
        "invoice_number",
        "issued_on",
        "due_on",
        "amount_paid",
        "balance_due",
        "overdue",
        "credit_note_number",
        "replaces_id",
        "replaced_by_id",
        "created_at",
        "updated_at",
        "usage_changed",
        "terms_changed",
        "usage_changed_after_sending",
        "usage_difference",
        "computed_at",
        "version",
    ]
    assert bill["properties"]["api_usage"]["format"] == "int64"
    assert bill["properties"]["overage_amount"]["type"] == "string"


def test_schema_validates_without_warnings(tmp_path, db):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["openapi"].startswith("3.")


def test_schema_is_served_to_anyone(db, anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/bills/{id}/approve" in response.json()["paths"]


def test_docs_are_served_from_local_static_files(db, anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "unpkg" not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
