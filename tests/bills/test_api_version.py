"""The bill version through the API and the pages (SPEC "Bill lifecycle"): the bill JSON and page
show it, a write sent with an older one is a 409 and changes nothing, one sent without it acts
as before. The races themselves: tests/bills/services/test_races.py."""

from __future__ import annotations

import pytest

from bills.models import Status
from bills.services import bill_approve, bill_update
from tests.factories import CustomerFactory, htmx, make_bill

pytestmark = pytest.mark.django_db

STALE = "Bill #{pk} changed since you looked at it (now: {status}): reload and decide again."


@pytest.fixture
def two_approval_bill(finance, csm, sales):
    """A draft of a customer that needs two approvals, with the CSM's given: version 2."""
    bill = make_bill(customer=CustomerFactory(csm=csm, require_csm_approval=True), finance=finance)
    return bill_approve(bill=bill, user=csm)


def test_the_bill_json_has_its_version_one_more_with_every_change(api_as, finance, sales, bill):
    client = api_as(finance)
    assert client.get(f"/api/bills/{bill.pk}").json()["version"] == 1
    body = api_as(sales).patch(f"/api/bills/{bill.pk}/approve", {"version": 1}, format="json")
    assert (body.status_code, body.json()["version"], body.json()["status"]) == (
        200,
        2,
        "approved",
    )
    assert client.get("/api/bills").json()["results"][0]["version"] == 2


@pytest.mark.parametrize("how", ["body", "if-match", "quoted if-match"])
def test_an_undo_sent_with_an_older_version_is_a_409_and_undoes_nothing(
    api_as, sales, two_approval_bill, how
):
    bill = two_approval_bill
    body = {"comment": "Undo."}
    headers = {}
    if how == "body":
        body["version"] = 1
    else:
        headers["HTTP_IF_MATCH"] = '"1"' if how.startswith("quoted") else "1"
    response = api_as(sales).patch(f"/api/bills/{bill.pk}/revert", body, format="json", **headers)
    assert response.status_code == 409
    assert response.json()["detail"] == STALE.format(pk=bill.pk, status="draft")
    bill.refresh_from_db()
    assert (bill.approvals_given, bill.version, bill.actions.count()) == (1, 2, 2)


def test_an_undo_sent_with_the_current_version_undoes(api_as, sales, two_approval_bill):
    bill = two_approval_bill
    response = api_as(sales).patch(
        f"/api/bills/{bill.pk}/revert", {"comment": "Undo."}, format="json", HTTP_IF_MATCH="2"
    )
    assert (response.status_code, response.json()["version"]) == (200, 3)


def test_without_a_version_the_api_acts_on_the_bill_as_it_is(api_as, sales, bill):
    response = api_as(sales).patch(f"/api/bills/{bill.pk}/approve", {}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "approved")


@pytest.mark.parametrize(
    ("body", "if_match", "message"),
    [
        ({"version": 0}, None, "Ensure this value is greater than or equal to 1."),
        ({"version": "two"}, None, "A valid integer is required."),
        ({}, "two", "The bill version is a whole number from 1 (the bill's `version`)."),
        ({}, "-1", "The bill version is a whole number from 1 (the bill's `version`)."),
        ({"version": 1}, "2", "The body says version 1 and If-Match says 2: send one."),
    ],
)
def test_a_bad_version_is_a_400_naming_it(api_as, sales, bill, body, if_match, message):
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}
    response = api_as(sales).patch(f"/api/bills/{bill.pk}/approve", body, format="json", **headers)
    assert response.status_code == 400
    assert response.json()["version"] == [message]
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("send", {}),
        ("void", {"comment": "No."}),
        ("dismiss", {"comment": "No."}),
    ],
)
def test_every_finance_action_takes_the_version(api_as, finance, bill, action, body):
    # The version is decided before the status: a stale request is a 409 about the version.
    response = api_as(finance).patch(
        f"/api/bills/{bill.pk}/{action}", {**body, "version": 7}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["detail"] == STALE.format(pk=bill.pk, status="draft")


def test_the_bill_page_shows_the_version_and_sends_it_with_each_button(page_as, sales, bill):
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    assert '<dd data-version="1">1 ' in html
    assert html.count('<input type="hidden" name="version" value="1">') >= 2  # approve, reject


def test_a_button_pressed_on_an_older_page_is_refused_and_shows_the_bill_now(
    page_as, sales, two_approval_bill
):
    bill = two_approval_bill
    response = page_as(sales).post(
        f"/bills/{bill.pk}/revert",
        {"comment": "Undo.", "version": "1"},
        **htmx("bill"),
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert STALE.format(pk=bill.pk, status="draft") in html
    assert '<input type="hidden" name="version" value="2">' in html  # the page as it is now
    bill.refresh_from_db()
    assert bill.approvals_given == 1


def test_a_dashboard_row_button_sends_the_rows_version(page_as, csm, bill):
    html = page_as(csm).get("/dashboard?status=draft").content.decode()
    assert f'action="/bills/{bill.pk}/approve"' in html
    assert '<input type="hidden" name="version" value="1">' in html


def test_the_bulk_confirmation_carries_each_bills_version(page_as, sales, bill):
    html = page_as(sales).get(f"/bills/bulk/approve?ids={bill.pk}").content.decode()
    assert f'<input type="hidden" name="version_{bill.pk}" value="1">' in html


def test_a_bulk_confirm_of_a_bill_that_changed_since_fails_that_bill(page_as, sales, csm, finance):
    changed = make_bill(customer=CustomerFactory(csm=csm), finance=finance)
    same = make_bill(customer=CustomerFactory(csm=csm), finance=finance)
    bill_update(bill=changed, user=finance, comment="Recomputed meanwhile.")  # now version 2
    response = page_as(sales).post(
        "/bills/bulk/approve",
        {"ids": [changed.pk, same.pk], f"version_{changed.pk}": "1", f"version_{same.pk}": "1"},
    )
    assert response.status_code == 200
    assert STALE.format(pk=changed.pk, status="draft") in response.content.decode()
    changed.refresh_from_db()
    same.refresh_from_db()
    assert (changed.status, same.status) == ("draft", "approved")


def test_the_bulk_api_takes_the_versions_decided_on(api_as, sales, csm, finance):
    changed = make_bill(customer=CustomerFactory(csm=csm), finance=finance)
    same = make_bill(customer=CustomerFactory(csm=csm), finance=finance)
    bill_update(bill=changed, user=finance, comment="Recomputed meanwhile.")  # now version 2
    body = {"ids": [changed.pk, same.pk], "versions": {str(changed.pk): 1, str(same.pk): 1}}
    response = api_as(sales).post("/api/bills/bulk/approve", body, format="json")
    assert response.status_code == 200
    assert [(r["id"], r["outcome"], r["detail"]) for r in response.json()["results"]] == [
        (changed.pk, "failed", STALE.format(pk=changed.pk, status="draft")),
        (same.pk, "approved", "Approved: it waits for Finance to send it."),
    ]


def test_a_bulk_version_keyed_by_something_else_is_a_400(api_as, sales, bill):
    body = {"ids": [bill.pk], "versions": {"twelve": 1}}
    response = api_as(sales).post("/api/bills/bulk/approve", body, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {
            "versions": [
                'Send the versions as {"bill id": version, ...}, each version a whole number '
                "from 1."
            ]
        },
    )
