"""Content-Security-Policy (issue 13 "Headers"): every answer carries the policy, and no template
needs 'unsafe-inline' (tests/e2e/test_csp.py loads the pages under it in Chromium)."""

import re
from pathlib import Path

import pytest

from tests.factories import htmx

pytestmark = pytest.mark.django_db

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# The invoice email is read in a mail client, never served under the policy.
EMAIL_TEMPLATES = TEMPLATES / "bills" / "email"


def test_the_public_pages_carry_the_policy(client):
    for path in ("/welcome", "/api/docs/", "/api/docs/?script=", "/admin/login/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == POLICY, path


def test_every_signed_in_page_carries_the_policy(client, staff, bill, customer):
    client.force_login(staff)
    paths = [
        "/dashboard",
        f"/bills/{bill.pk}",
        f"/bills/{bill.pk}/invoice",
        "/bills/unbilled",
        "/customers",
        f"/customers/{customer.pk}",
        "/usage",
        "/usage/record",
        "/profile",
        "/admin/",
        "/admin/bills/bill/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == POLICY, path


def test_fragments_errors_and_api_answers_carry_it_too(client, page_as, api_as, finance):
    pages = page_as(finance)
    answers = {
        "htmx fragment": pages.get("/dashboard?status=draft", **htmx("bill-index")),
        "not found": pages.get("/no-such-page"),
        "api": api_as(finance).get("/api/bills"),
        "api refusal": client.get("/api/bills"),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "htmx fragment": 200,
        "not found": 404,
        "api": 200,
        "api refusal": 401,
    }
    for name, response in answers.items():
        assert response["Content-Security-Policy"] == POLICY, name


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style block": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "hx-on (needs eval)": re.compile(r"\shx-on", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_no_template_served_as_a_page_has_inline_script_or_style():
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        if template.is_relative_to(EMAIL_TEMPLATES):
            continue
        text = template.read_text()
        for kind, pattern in INLINE.items():
            if pattern.search(text):
                found.append(f"{template.relative_to(TEMPLATES)}: {kind}")
    assert found == []
