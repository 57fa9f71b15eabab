"""To htmx, a failure is one sentence for the page's message area (an HX-Trigger event and no
swap), never the whole error page that a button would swap into a table row (issue 15)."""

import json

import pytest
from django.test import Client

from bills.models import Status

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/dashboard"}


def _failure(response) -> dict:
    assert response["HX-Reswap"] == "none"
    assert b"<html" not in response.content and b"<header" not in response.content
    return json.loads(response["HX-Trigger"])["showFailure"]


def test_an_expired_form_asks_htmx_to_offer_a_reload(sales, bill_in):
    bill = bill_in(Status.DRAFT)
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales)
    response = client.post(f"/bills/{bill.pk}/approve", **HTMX)
    assert response.status_code == 403
    assert _failure(response) == {
        "kind": "csrf",
        "message": "This page has expired (you logged in again, perhaps in another tab). "
        "Reload it and try again.",
    }
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT


def test_an_expired_form_without_htmx_is_still_the_whole_page(sales, bill_in):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales)
    response = client.post(f"/bills/{bill_in(Status.DRAFT).pk}/approve")
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_an_unknown_page_asked_by_htmx_is_a_sentence(page_as, sales):
    response = page_as(sales).get("/bills/999999", **HTMX)
    assert response.status_code == 404
    assert _failure(response)["message"] == (
        "This no longer exists (it may have been removed). Reload the page."
    )


def test_a_crash_answers_htmx_with_nothing_was_changed(page_as, sales, bill_in, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("bills.views.bill_approve", crash)
    client = page_as(sales)
    client.raise_request_exception = False
    response = client.post(f"/bills/{bill_in(Status.DRAFT).pk}/approve", **HTMX)
    assert response.status_code == 500
    assert _failure(response) == {
        "kind": "error",
        "message": "Something went wrong; nothing was changed. Try again.",
    }


def test_a_crash_without_htmx_is_still_the_500_page(page_as, sales, bill_in, monkeypatch):
    monkeypatch.setattr("bills.views.bill_approve", lambda **kwargs: 1 / 0)
    client = page_as(sales)
    client.raise_request_exception = False
    response = client.post(f"/bills/{bill_in(Status.DRAFT).pk}/approve")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
