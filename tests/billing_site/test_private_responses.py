"""Cache headers (issue 13 "Headers", issue 15 "One state per screen"): what a signed-in user
reads is never stored by a cache, and a fragment is never stored as its page."""

import pytest

from tests.factories import htmx

pytestmark = pytest.mark.django_db

PRIVATE = "private, no-store"


@pytest.mark.parametrize(
    "path",
    ["/dashboard", "/customers", "/usage", "/usage/record"],
)
def test_signed_in_pages_are_not_stored(page_as, finance, path):
    finance_client = page_as(finance)
    response = finance_client.get(path)
    assert response.status_code == 200
    assert sorted(response["Cache-Control"].split(", ")) == sorted(PRIVATE.split(", "))
    assert "HX-Request" in response["Vary"]


def test_a_fragment_and_its_page_are_told_apart(page_as, finance):
    finance_client = page_as(finance)
    page = finance_client.get("/dashboard?status=draft")
    fragment = finance_client.get("/dashboard?status=draft", **htmx("bill-index"))
    assert "<html" in page.content.decode() and "<html" not in fragment.content.decode()
    for response in (page, fragment):
        assert "HX-Request" in response["Vary"]
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/bills", "/api/bills.csv", "/api/customers", "/api/usage"])
def test_api_answers_and_exports_are_not_stored(api_as, finance, path):
    finance_api = api_as(finance)
    response = finance_api.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_an_anonymous_api_refusal_is_not_stored_either(client):
    response = client.get("/api/bills")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_the_public_welcome_page_is_not_stored_either(client):
    # Its forms carry a CSRF token tied to this browser.
    response = client.get("/welcome")
    assert "no-store" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]
