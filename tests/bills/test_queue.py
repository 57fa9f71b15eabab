"""Each approver's queue ("waiting for me"): one table of who waits on whom, checked through the
dashboard, GET /api/bills and its CSV, the navigation's count and GET /api/bills/awaiting."""

from __future__ import annotations

import csv
import io
import re

import pytest

from accounts.models import Role
from bills.models import Bill
from bills.queue import awaiting_q, bill_awaiting_count
from bills.services import bill_approve, bill_reject
from tests.factories import CustomerFactory, UserFactory, htmx, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db

# casey is the CSM of the "A" customers, cora of "B One"; cody is Customer Success with no
# customers; sam is Sales; fiona is Finance. Each bill is named after its customer.
BILLS = {
    # name: (CSM, needs CSM approval, what happened to it)
    "A One": ("casey", False, "draft"),
    "A Two, Sales approved": ("casey", True, "approved by sam"),
    "A Two, CSM approved": ("casey", True, "approved by casey"),
    "No CSM": (None, False, "draft"),
    "A Approved": ("casey", False, "approved by sam"),
    "A Rejected": ("casey", False, "rejected by casey"),
    "B One": ("cora", False, "draft"),
}
QUEUES = {
    "casey": ["A One", "A Two, Sales approved", "No CSM"],
    "cora": ["B One", "No CSM"],
    "cody": ["No CSM"],
    "sam": ["A One", "A Two, CSM approved", "B One", "No CSM"],
    "fiona": [],
}
EVERY_BILL = sorted(BILLS)


@pytest.fixture
def people(finance, sales, csm, other_csm, cs_user):
    return {u.name: u for u in (finance, sales, csm, other_csm, cs_user)}


@pytest.fixture
def book(people, finance):
    """The bills of BILLS, each in its state, by name."""
    bills = {}
    for name, (csm_name, two, state) in BILLS.items():
        customer = CustomerFactory(name=name, csm=people.get(csm_name), require_csm_approval=two)
        bill = make_bill(customer=customer, finance=finance)
        if state.startswith("approved by"):
            bill = bill_approve(bill=bill, user=people[state.split()[-1]])
        elif state.startswith("rejected by"):
            bill = bill_reject(bill=bill, user=people[state.split()[-1]], comment="No.")
        bills[name] = bill
    return bills


def rows(html: str) -> list[str]:
    names = re.findall(
        r'<td data-label="Customer" class="cell-customer"><a [^>]*>([^<]*)</a>', html
    )
    return sorted(n.replace("&#x27;", "'") for n in names)


def nav_count(html: str) -> int | None:
    match = re.search(r'<span id="awaiting-count"[^>]*>.*?(\d+)<span', html, re.S)
    return int(match.group(1)) if match else None


@pytest.mark.parametrize("name", QUEUES)
def test_the_dashboard_shows_each_approvers_queue(name, people, book, page_as):
    html = page_as(people[name]).get("/dashboard?awaiting=me&per_page=100").content.decode()
    assert rows(html) == QUEUES[name]


@pytest.mark.parametrize("name", QUEUES)
def test_the_api_filter_gives_each_approvers_queue(name, people, book, api_as):
    answer = api_as(people[name]).get("/api/bills?awaiting=me").json()
    assert sorted(b["customer_name"] for b in answer["results"]) == QUEUES[name]
    assert answer["count"] == len(QUEUES[name])


@pytest.mark.parametrize("name", QUEUES)
def test_the_csv_takes_the_same_filter(name, people, book, api_as):
    response = api_as(people[name]).get("/api/bills.csv?awaiting=me")
    text = b"".join(response.streaming_content).decode()
    assert sorted(r["customer_name"] for r in csv.DictReader(io.StringIO(text))) == QUEUES[name]


@pytest.mark.parametrize(
    ("name", "count"), [("casey", 3), ("cora", 2), ("cody", 1), ("sam", 4), ("fiona", None)]
)
def test_the_navigation_counts_the_queue_on_every_page(name, count, people, book, page_as):
    client = page_as(people[name])
    # The dashboard showing exactly the queue (in any order) counts it once for both; with
    # another filter, the navigation still counts the whole queue.
    queue_lists = ("?awaiting=me", "?awaiting=me&sort=amount", "?awaiting=me&customer=a+two")
    every = ("/customers", "/usage", f"/bills/{book['A One'].pk}", "/dashboard?awaiting=")
    for path in (*every, *(f"/dashboard{q}" for q in queue_lists if count is not None)):
        assert nav_count(client.get(path).content.decode()) == count, path


@pytest.mark.parametrize(
    ("name", "count"), [("casey", 3), ("cora", 2), ("cody", 1), ("sam", 4), ("fiona", 0)]
)
def test_the_api_counts_the_queue(name, count, people, book, api_as):
    assert api_as(people[name]).get("/api/bills/awaiting").json() == {"count": count}


def test_the_count_endpoints_need_a_login(client, anon):
    assert anon.get("/api/bills/awaiting").status_code == 401
    assert client.get("/dashboard/awaiting")["Location"] == "/welcome?next=%2Fdashboard%2Fawaiting"


def test_the_count_fragment_is_the_badge_and_nothing_for_finance(people, book, page_as):
    html = page_as(people["sam"]).get("/dashboard/awaiting", **htmx()).content.decode()
    assert nav_count(html) == 4 and 'hx-trigger="billsChanged from:body"' in html
    assert page_as(people["fiona"]).get("/dashboard/awaiting", **htmx()).status_code == 204
    assert page_as(people["sam"]).post("/dashboard/awaiting").status_code == 405


@pytest.mark.parametrize("name", ["sam", "casey", "cody"])
def test_sales_and_customer_success_open_on_their_queue(name, people, page_as):
    response = page_as(people[name]).get("/dashboard")
    assert response.status_code == 302 and response["Location"] == "/dashboard?awaiting=me"


def test_finance_opens_on_every_bill_without_the_checkbox(people, book, page_as):
    html = page_as(people["fiona"]).get("/dashboard").content.decode()
    assert rows(html) == EVERY_BILL
    assert 'name="awaiting"' not in html and nav_count(html) is None


def test_the_checkbox_turns_the_queue_on_and_clear_shows_everything(people, book, page_as):
    client = page_as(people["cora"])
    queue = client.get("/dashboard?awaiting=me").content.decode()
    box = re.search(r'<input type="checkbox" name="awaiting"[^>]*>', queue).group(0)
    assert 'value="me"' in box and "checked" in box
    assert '<label class="check" for="id_awaiting">' in queue and "Waiting for me" in queue
    assert 'href="/dashboard?awaiting="' in queue  # Clear
    everything = client.get("/dashboard?awaiting=").content.decode()
    assert rows(everything) == EVERY_BILL
    box = re.search(r'<input type="checkbox" name="awaiting"[^>]*>', everything).group(0)
    assert 'value="me"' in box and "checked" not in box
    # Unticked, the form sends no `awaiting` at all: every bill, not the queue.
    assert rows(client.get("/dashboard?customer=&status=").content.decode()) == EVERY_BILL


def test_the_queue_keeps_the_other_filters(people, book, page_as):
    html = page_as(people["sam"]).get("/dashboard?awaiting=me&customer=a+two").content.decode()
    assert rows(html) == ["A Two, CSM approved"]


def test_an_empty_queue_says_so_and_links_every_bill(people, page_as):
    html = page_as(people["cody"]).get("/dashboard?awaiting=me").content.decode()
    assert "Nothing waits for your approval." in html
    assert '<a href="/dashboard?awaiting=">See every bill</a>' in html


@pytest.mark.parametrize("path", ["/api/bills", "/api/bills.csv"])
@pytest.mark.parametrize("value", ["you", "ME", "true", "1"])
def test_the_api_refuses_any_other_value_naming_awaiting(path, value, people, api_as):
    response = api_as(people["sam"]).get(f"{path}?awaiting={value}")
    assert response.status_code == 400
    assert response.json() == {
        "awaiting": [
            "Use awaiting=me (the drafts that wait for your approval), or leave it out for "
            "every bill."
        ]
    }


def test_an_empty_awaiting_is_no_filter(people, book, api_as):
    assert api_as(people["sam"]).get("/api/bills?awaiting=").json()["count"] == 7


def test_the_page_shows_a_bad_value_on_the_checkbox_and_every_bill(people, book, page_as):
    response = page_as(people["sam"]).get("/dashboard?awaiting=you")
    html = response.content.decode()
    assert response.status_code == 200 and rows(html) == EVERY_BILL
    assert "Use awaiting=me (the drafts that wait for your approval)" in html


def test_a_draft_whose_usage_changed_stays_in_the_queue_flagged_without_approve(
    people, book, page_as
):
    bill = book["B One"]
    Usage.objects.filter(customer=bill.customer).update(api_usage=1_700_000)
    html = page_as(people["cora"]).get("/dashboard?awaiting=me").content.decode()
    assert rows(html) == ["B One", "No CSM"]
    row = re.search(rf'<tr id="bill-row-{bill.pk}".*?</tr>', html, re.S).group(0)
    assert "usage changed</span>" in row and ">Approve</button>" not in row


def test_an_approval_in_place_takes_the_bill_out_of_the_queue(people, book, page_as):
    sam, casey = page_as(people["sam"]), page_as(people["casey"])
    bill = book["A Two, Sales approved"]
    response = casey.post(f"/bills/{bill.pk}/approve", **htmx(f"bill-row-{bill.pk}"))
    assert response.status_code == 200 and "billsChanged" in response["HX-Trigger"]
    assert nav_count(casey.get("/dashboard/awaiting", **htmx()).content.decode()) == 2
    assert nav_count(sam.get("/dashboard/awaiting", **htmx()).content.decode()) == 4
    # A one-approval bill leaves every queue with its first approval, whoever gives it.
    bill_approve(bill=book["A One"], user=people["sam"])
    assert nav_count(casey.get("/dashboard/awaiting", **htmx()).content.decode()) == 1
    assert nav_count(sam.get("/dashboard/awaiting", **htmx()).content.decode()) == 3


def test_an_inactive_user_has_no_queue(people, book):
    sam = people["sam"]
    sam.is_active = False
    sam.save(update_fields=["is_active"])
    assert bill_awaiting_count(sam) == 0
    assert not Bill.objects.filter(awaiting_q(sam)).exists()


def test_a_bill_does_not_wait_on_whoever_gave_its_other_approval(finance, api_as):
    """Four eyes: CSM approval given, then made Sales by an admin: the bill waits on another
    Sales user, not on them."""
    switcher = UserFactory(name="switcher", role=Role.CUSTOMER_SUCCESS)
    other_sales = UserFactory(name="sue", role=Role.SALES)
    customer = CustomerFactory(name="Two-step", csm=switcher, require_csm_approval=True)
    bill_approve(bill=make_bill(customer=customer, finance=finance), user=switcher)
    switcher.role = Role.SALES
    switcher.save()
    assert api_as(switcher).get("/api/bills?awaiting=me").json()["count"] == 0
    assert api_as(other_sales).get("/api/bills?awaiting=me").json()["count"] == 1


def test_the_queue_runs_a_fixed_number_of_queries(
    people, many_bills, page_as, django_assert_max_num_queries
):
    many_bills(300)  # half of them casey's customers, half with no CSM: all wait on casey
    client = page_as(people["casey"])
    # session, user, the counts and totals per period and status (the list's count, the
    # status tiles and the navigation's count), the page of bills, the aging tiles, the page's
    # usage history (suspicious)
    with django_assert_max_num_queries(6):
        html = client.get("/dashboard?awaiting=me&per_page=100").content.decode()
    assert len(re.findall(r'id="bill-row-', html)) == 100 and nav_count(html) == 300
    with django_assert_max_num_queries(6):
        client.get("/dashboard?awaiting=me&page=3", **htmx("bill-index"))
