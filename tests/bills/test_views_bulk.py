"""The dashboard's bulk actions: the bar and the checkboxes, the confirmation page at
/bills/bulk/<action> (how many, the exact total, what is skipped and why), "all matching the
filters", and confirming (CSRF, one outcome per bill, back to the same filters)."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from bills.models import Bill, BillAction, Status
from bills.services import bill_approve, bill_reject
from tests.factories import MONTH, YEAR, htmx, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db

NEXT = "/dashboard?status=draft"


def draft(finance, **customer_fields) -> Bill:
    return make_bill(finance=finance, year=YEAR, month=MONTH, **customer_fields)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def posted_ids(page: str) -> list[int]:
    """The ids the confirmation's form will post, in order."""
    form = re.search(r'<form class="card bulk-confirm".*?</form>', page, re.S).group(0)
    return [int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', form)]


def row_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="bill-row-(\d+)"', page)]


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def book(finance, sales, csm, other_csm):
    """Drafts for casey (`csm`): two ready (USD 1,250.00 and 2,500.00), another CSM's, one
    approved already, one whose usage changed."""
    bills = {
        "alpha": draft(finance, name="Alpha", csm=csm),
        "bravo": draft(finance, name="Bravo", csm=csm, api_usage=2_000_000),
        "charlie": draft(finance, name="Charlie", csm=other_csm),
        "delta": draft(finance, name="Delta", csm=csm),
        "echo": draft(finance, name="Echo", csm=csm),
    }
    bill_approve(bill=bills["delta"], user=sales)
    Usage.objects.filter(customer=bills["echo"].customer).update(api_usage=1_600_000)
    return bills


# --- the dashboard's bar ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "buttons"),
    [
        ("sales", ["Approve…", "Reject…"]),
        ("csm", ["Approve…", "Reject…"]),
        ("finance", ["Send…"]),
    ],
)
def test_the_bar_offers_the_bulk_actions_of_the_viewers_role(page_as, users, bill, role, buttons):
    page = page_as(users[role]).get("/dashboard?status=").content.decode()
    bar = re.search(r'<form id="bulk-form".*?</form>', page, re.S).group(0)
    assert re.findall(r'formaction="/bills/bulk/\w+">([^<]+)</button>', bar) == buttons
    assert 'name="next" value="/dashboard?status="' in bar
    assert "Select all 1 bill matching the filters" in bar


def test_each_row_the_viewer_may_act_on_has_a_labelled_checkbox(page_as, sales, book):
    page = text_of(page_as(sales).get("/dashboard?sort=customer"))
    boxes = re.findall(r'<input type="checkbox" class="select-check" form="bulk-form"[^>]*>', page)
    labels = [re.search(r'aria-label="([^"]+)"', box).group(1) for box in boxes]
    # Delta is approved: Sales can neither approve nor reject it, so it has no checkbox.
    assert labels == [
        f"Select bill #{book['alpha'].pk}, Alpha, Mar 2025, USD\u00a01,250.00",
        f"Select bill #{book['bravo'].pk}, Bravo, Mar 2025, USD\u00a02,500.00",
        f"Select bill #{book['charlie'].pk}, Charlie, Mar 2025, USD\u00a01,250.00",
        f"Select bill #{book['echo'].pk}, Echo, Mar 2025, USD\u00a01,250.00",
    ]
    assert 'data-bulk-all hidden aria-label="Select every bill on this page"' in page


# --- the confirmation ------------------------------------------------------------------------


def test_the_confirmation_shows_the_count_the_total_and_what_is_skipped(page_as, csm, book):
    ids = [book[name].pk for name in ("alpha", "bravo", "charlie", "delta", "echo")]
    response = page_as(csm).get("/bills/bulk/approve", {"ids": ids, "next": NEXT})
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Approve 2 bills?</h1>" in page
    assert "2 bills will be approved" in page
    assert '<strong>USD\u00a03,750.00</strong> <span class="muted">(2 bills)</span>' in page
    assert "3 bills will be skipped" in page
    skipped = re.findall(
        r"Bill #(\d+)</a>, (\w+), [^:]+: <strong class=\"skip-reason\">([^<]+)", page
    )
    assert skipped == [
        (str(book["charlie"].pk), "Charlie", "not yours"),
        (str(book["delta"].pk), "Delta", "wrong status (approved)"),
        (str(book["echo"].pk), "Echo", "usage changed: recompute first"),
    ]
    # The form posts every id it showed, so the result lists each one; CSRF is on.
    assert posted_ids(page) == ids
    assert "csrfmiddlewaretoken" in page
    assert ">Approve 2 bills</button>" in page
    assert f'href="{NEXT}">Cancel</a>' in page


def test_the_confirmation_writes_nothing(page_as, csm, book):
    rows = BillAction.objects.count()
    page_as(csm).get("/bills/bulk/approve", {"ids": [book["alpha"].pk]})
    assert BillAction.objects.count() == rows
    assert Bill.objects.get(pk=book["alpha"].pk).status == Status.DRAFT


def test_all_matching_is_exactly_the_rows_the_filters_show(page_as, sales, finance):
    for name in ("Acme East", "Acme West", "Acme North", "Globex"):
        draft(finance, name=name)
    bill_reject(bill=draft(finance, name="Acme Gone"), user=sales, comment="No.")
    client = page_as(sales)
    dashboard = "/dashboard?status=draft&customer=acme&sort=customer"
    shown = row_ids(client.get(dashboard).content.decode())
    assert len(shown) == 3
    page = text_of(client.get("/bills/bulk/reject", {"all": "1", "next": dashboard}))
    assert posted_ids(page) == shown
    assert "<h1>Reject 3 bills?</h1>" in page
    # Ticked rows are ignored when "all matching" is chosen.
    page = text_of(
        client.get("/bills/bulk/reject", {"all": "1", "ids": shown[:1], "next": dashboard})
    )
    assert posted_ids(page) == shown


def test_all_matching_follows_the_queue_filter_of_the_viewer(page_as, csm, book):
    page = text_of(
        page_as(csm).get(
            "/bills/bulk/approve", {"all": "1", "next": "/dashboard?awaiting=me&sort=customer"}
        )
    )
    # casey's queue: the drafts of the customers casey manages that still need the CSM approval.
    assert posted_ids(page) == [book["alpha"].pk, book["bravo"].pk, book["echo"].pk]


def test_too_many_matching_bills_ask_to_narrow_the_filters(page_as, sales, finance, monkeypatch):
    monkeypatch.setattr("bills.views_bulk.MAX_BULK_IDS", 2)
    for name in ("One", "Two", "Three"):
        draft(finance, name=name)
    response = page_as(sales).get("/bills/bulk/approve", {"all": "1", "next": NEXT})
    assert (response.status_code, response["Location"]) == (302, NEXT)
    assert flashes(response) == [
        "3 bills match these filters; a bulk action takes at most 2 at a time. Narrow the "
        "filters first."
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Tick the bills to act on first, or choose all bills matching the filters."),
        ({"ids": ["12", "1.0"]}, "“1.0” is not a bill id."),
        ({"ids": ["0"]}, "“0” is not a bill id."),
        ({"ids": ["1"] * 501}, "A bulk action takes at most 500 bills at a time; tick fewer."),
        ({"all": "1", "next": "/dashboard?customer=nobody"}, "No bills match these filters."),
    ],
)
def test_nothing_or_bad_ids_go_back_with_a_message(page_as, sales, bill, query, message):
    response = page_as(sales).get("/bills/bulk/approve", {"next": NEXT, **query})
    back = query.get("next", NEXT)
    assert (response.status_code, response["Location"]) == (302, back)
    assert flashes(response) == [message]


@pytest.mark.parametrize(
    ("role", "action", "message"),
    [
        ("finance", "approve", "Your role (Finance) may not approve bills."),
        ("finance", "reject", "Your role (Finance) may not reject bills."),
        ("sales", "send", "Your role (Sales) may not send bills."),
        ("csm", "send", "Your role (Customer Success) may not send bills."),
    ],
)
def test_a_role_without_the_action_gets_the_403_page(page_as, users, bill, role, action, message):
    client = page_as(users[role])
    for response in (
        client.get(f"/bills/bulk/{action}", {"ids": [bill.pk]}),
        client.post(f"/bills/bulk/{action}", {"ids": [bill.pk], "comment": "x"}),
    ):
        assert response.status_code == 403
        assert message in text_of(response)
    assert BillAction.objects.filter(bill=bill).count() == 1


def test_anonymous_is_sent_to_welcome_and_unknown_actions_are_404(client, page_as, sales, bill):
    response = client.get("/bills/bulk/approve", {"ids": [bill.pk]})
    assert response.status_code == 302 and response["Location"].startswith("/welcome")
    assert page_as(sales).get("/bills/bulk/revert", {"ids": [bill.pk]}).status_code == 404


def test_the_confirmation_page_asks_a_fixed_number_of_queries(
    page_as, sales, many_bills, django_assert_max_num_queries
):
    ids = many_bills(60)
    client = page_as(sales)
    # session, user, the bills, their months' usage history (suspicious usage), and the
    # navigation's count of the bills waiting for the viewer
    with django_assert_max_num_queries(5):
        response = client.get("/bills/bulk/approve", {"ids": ids})
    assert "<h1>Approve 60 bills?</h1>" in text_of(response)


# --- confirming -------------------------------------------------------------------------------


def test_confirming_acts_and_lists_every_outcome_with_links(page_as, csm, book):
    ids = [book[name].pk for name in ("alpha", "bravo", "charlie")]
    response = page_as(csm).post(
        "/bills/bulk/approve", {"ids": ids, "next": NEXT, "comment": "Checked."}
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Approve: done</h1>" in page
    assert (
        '<span class="count-approved">2 approved</span>, '
        '<span class="count-skipped">1 skipped</span>, <span class="count-failed">0 failed</span>'
    ) in page
    outcomes = re.findall(
        r'<a href="/bills/(\d+)">Bill #\d+</a>.*?outcome-tag-(\w+)">.*?'
        r'<span class="small">([^<]*)</span>',
        page,
        re.S,
    )
    assert outcomes == [
        (str(book["alpha"].pk), "approved", "Approved: it waits for Finance to send it."),
        (str(book["bravo"].pk), "approved", "Approved: it waits for Finance to send it."),
        (str(book["charlie"].pk), "skipped", "not yours"),
    ]
    assert f'<a class="btn btn-primary" href="{NEXT}">Back to the dashboard</a>' in page
    assert [Bill.objects.get(pk=pk).status for pk in ids] == ["approved", "approved", "draft"]
    assert BillAction.objects.get(bill=book["alpha"], action="approved").comment == "Checked."


def test_confirming_a_reject_needs_the_comment(page_as, sales, book):
    ids = [book["alpha"].pk, book["bravo"].pk]
    client = page_as(sales)
    response = client.post("/bills/bulk/reject", {"ids": ids, "next": NEXT, "comment": "  "})
    assert response.status_code == 400
    page = text_of(response)
    assert (
        '<p class="field-error" id="bulk-comment-error">A comment is required to reject bills.</p>'
        in page
    )
    assert posted_ids(page) == ids
    assert [Bill.objects.get(pk=pk).status for pk in ids] == ["draft", "draft"]
    response = client.post("/bills/bulk/reject", {"ids": ids, "next": NEXT, "comment": "Outage."})
    assert [Bill.objects.get(pk=pk).status for pk in ids] == ["rejected", "rejected"]


def test_confirming_needs_the_csrf_token(sales, book):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales)
    response = client.post("/bills/bulk/approve", {"ids": [book["alpha"].pk]})
    assert response.status_code == 403
    assert Bill.objects.get(pk=book["alpha"].pk).status == Status.DRAFT


def test_with_htmx_confirming_answers_the_result_fragment(page_as, sales, book):
    response = page_as(sales).post(
        "/bills/bulk/approve", {"ids": [book["alpha"].pk], "next": NEXT}, **htmx("bulk")
    )
    body = response.content.decode().lstrip()
    assert body.startswith('<div id="bulk" class="bulk-page">')
    assert "<!doctype" not in body and "<h1>Approve: done</h1>" in body


def test_bulk_send_from_the_page_runs_in_the_worker(page_as, finance, sales, book, run_tasks):
    alpha = book["alpha"]
    bill_approve(bill=alpha, user=sales)
    client = page_as(finance)
    ids = [alpha.pk, book["delta"].pk, book["bravo"].pk]
    page = text_of(client.get("/bills/bulk/send", {"ids": ids, "next": "/dashboard"}))
    assert "<h1>Send 2 bills?</h1>" in page
    assert f"Will be emailed to {alpha.customer.billing_email}." in page
    assert 'name="comment"' not in page
    started = client.post("/bills/bulk/send", {"ids": ids, "next": "/dashboard"}, **htmx("bulk"))
    page = text_of(started)
    assert "Waiting for the background worker" in page and 'hx-trigger="every 1s"' in page
    assert [Bill.objects.get(pk=pk).status for pk in ids] == ["approved", "approved", "draft"]
    [poll] = re.findall(r'hx-get="([^"]+)"', started.text)
    run_tasks()
    page = text_of(client.get(poll.replace("&amp;", "&"), **htmx("bulk")))
    assert '<span class="count-sent">2 sent</span>' in page
    assert "every 1s" not in page
    assert [Bill.objects.get(pk=pk).status for pk in ids] == ["sent", "sent", "draft"]
    # Without htmx: redirected to the job's page, which shows the same outcome.
    bravo = bill_approve(bill=book["bravo"], user=sales)
    response = client.post("/bills/bulk/send", {"ids": [bravo.pk], "next": "/dashboard"})
    assert response.status_code == 302 and response["Location"].startswith("/bills/jobs/")
    run_tasks()
    assert '<span class="count-sent">1 sent</span>' in text_of(client.get(response["Location"]))


def test_other_methods_are_refused(page_as, sales):
    assert page_as(sales).put("/bills/bulk/approve").status_code == 405
