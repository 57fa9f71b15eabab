"""Who may record and undo payments, written out as data (SPEC "Roles" and "Bill lifecycle":
payment recorded; docs/lifecycle.md), held against the API, the page without JavaScript and the
htmx bill panel, and the buttons the bill page shows. The expected answers never come from the
code under test: this module imports neither accounts.roles nor the lifecycle table.

Each row is a role acting on a bill in one state. Payments are Finance's alone, so the relation
to the customer matters only to show it does not: "cs own" is the customer's CSM, "cs other" a
CSM of another customer. States: draft, approved, rejected, sent (nothing paid yet), part_paid
(sent, USD 100.00 of USD 1,250.00 paid), paid (paid in full), void.

A cell: the status the bill ends in (the action happened and wrote one history row: recording
USD 10.00, or undoing the bill's latest payment that counts); or 403 (refused for the role,
before anything else), 409 (refused for the bill's status), 404 (the bill has no payment to
undo, so the one named does not exist); a refusal changes nothing.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from billing_site.core import periods
from bills.models import Bill, BillAction, Payment
from tests.factories import CustomerFactory, UserFactory, htmx

pytestmark = pytest.mark.django_db

TABLE = """
role     relation state      record undo
finance  own      draft      409    404
finance  own      approved   409    404
finance  own      rejected   409    404
finance  own      sent       sent   404
finance  own      part_paid  sent   sent
finance  own      paid       409    sent
finance  own      void       409    404

sales    own      draft      403    403
sales    own      approved   403    403
sales    own      rejected   403    403
sales    own      sent       403    403
sales    own      part_paid  403    403
sales    own      paid       403    403
sales    own      void       403    403

cs       own      draft      403    403
cs       own      approved   403    403
cs       own      rejected   403    403
cs       own      sent       403    403
cs       own      part_paid  403    403
cs       own      paid       403    403
cs       own      void       403    403

cs       other    draft      403    403
cs       other    approved   403    403
cs       other    rejected   403    403
cs       other    sent       403    403
cs       other    part_paid  403    403
cs       other    paid       403    403
cs       other    void       403    403
"""
ACTIONS = ("record", "undo")
REFUSALS = ("403", "404", "409")
NO_SUCH_PAYMENT = 987_654_321


def parse(table: str) -> dict[tuple[str, str, str], dict[str, str]]:
    lines = [line.split() for line in table.strip().splitlines() if line.strip()]
    header, rows = lines[0], lines[1:]
    assert header == ["role", "relation", "state", *ACTIONS]
    return {(r, rel, s): dict(zip(ACTIONS, cells, strict=True)) for r, rel, s, *cells in rows}


EXPECTED = parse(TABLE)
ROWS = [pytest.param(*key, id="-".join(key)) for key in EXPECTED]


@pytest.fixture
def actors(finance, sales, csm):
    return {"finance": finance, "sales": sales, "cs": csm}


@pytest.fixture
def bill_for(bill_in, csm, other_csm):
    """bill_for(relation, state) -> a fresh bill in that state, set up by other people."""
    from bills.services import payment_record

    maker = UserFactory(name="finance-maker")

    def make(relation: str, state: str) -> Bill:
        customer = CustomerFactory(csm=csm if relation == "own" else other_csm)
        status = {"part_paid": "sent", "paid": "sent"}.get(state, state)
        bill = bill_in(status, customer=customer)
        amount = {"part_paid": "100.00", "paid": bill.overage_amount}.get(state)
        if amount is not None:
            payment_record(
                bill=bill, user=maker, date=periods.today(), amount=amount, reference="TR-0"
            )
        bill.refresh_from_db()
        return bill

    return make


def _urls(bill: Bill, action: str) -> tuple[str, str, dict]:
    """(api url, page url, body) of the action on the bill."""
    if action == "record":
        body = {"date": periods.today().isoformat(), "amount": "10.00", "reference": "TR-9"}
        return f"/api/bills/{bill.pk}/payments", f"/bills/{bill.pk}/payments", body
    latest = bill.payments.filter(undone_at__isnull=True).order_by("-id").first()
    payment_id = latest.pk if latest else NO_SUCH_PAYMENT
    tail = f"/bills/{bill.pk}/payments/{payment_id}/undo"
    return f"/api{tail}", tail, {"comment": "Bounced."}


def by_api(client, bill, action) -> str:
    url, _, body = _urls(bill, action)
    response = client.post(url, body, format="json")
    answers = {201: "ok", 200: "ok", 403: "403", 404: "404", 409: "409"}
    return answers.get(response.status_code, f"HTTP {response.status_code} {response.content!r}")


NEXT = "/dashboard?status=sent"


def by_page(client, bill, action) -> str:
    _, url, body = _urls(bill, action)
    response = client.post(url, {**body, "next": NEXT})
    flashes = tuple(m.level_tag for m in get_messages(response.wsgi_request))
    client.cookies.pop("messages", None)
    if response.status_code in (403, 404):
        return str(response.status_code)
    if response.status_code == 302 and response["Location"] == NEXT:
        return {("success",): "ok", ("error",): "409"}.get(flashes, f"302 with {flashes}")
    return f"HTTP {response.status_code}"


def by_htmx(client, bill, action) -> str:
    _, url, body = _urls(bill, action)
    response = client.post(url, {**body, "next": NEXT}, **htmx("bill"))
    html = response.content.decode().lstrip()
    code = response.status_code
    if code == 404:
        return "404"
    if not html.startswith('<div id="bill"'):
        return f"HTTP {code} without the bill panel"
    if code == 200 and 'role="status"' in html and "billsChanged" in response["HX-Trigger"]:
        return "ok"
    if code in (403, 409) and 'role="alert"' in html:
        return str(code)
    return f"HTTP {code} without its notice"


CHANNELS = {"api": by_api, "page": by_page, "htmx-panel": by_htmx}


def attempt(channel, client, bill, action) -> str:
    before = (bill.status, bill.amount_paid, BillAction.objects.filter(bill=bill).count())
    counted = Payment.objects.filter(bill=bill, undone_at__isnull=True).count()
    answer = CHANNELS[channel](client, bill, action)
    bill.refresh_from_db()
    rows = BillAction.objects.filter(bill=bill).count() - before[2]
    now_counted = Payment.objects.filter(bill=bill, undone_at__isnull=True).count()
    if answer == "ok" and rows == 1 and now_counted == counted + (1 if action == "record" else -1):
        return bill.status
    if answer in REFUSALS and rows == 0 and (bill.status, bill.amount_paid) == before[:2]:
        return answer
    return f"{answer}, {before[0]} -> {bill.status}, {rows} history rows added"


@pytest.mark.parametrize(("role", "relation", "state"), ROWS)
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_answers_as_the_table_says(
    channel, role, relation, state, actors, bill_for, api_as, page_as
):
    user = actors[role]
    client = api_as(user) if channel == "api" else page_as(user)
    answers = {}
    for action in ACTIONS:
        answers[action] = attempt(channel, client, bill_for(relation, state), action)
    assert answers == EXPECTED[role, relation, state]


@pytest.mark.parametrize(("role", "relation", "state"), ROWS)
def test_the_bill_page_shows_exactly_the_payment_buttons_the_table_allows(
    role, relation, state, actors, bill_for, page_as
):
    bill = bill_for(relation, state)
    html = page_as(actors[role]).get(f"/bills/{bill.pk}").content.decode()
    cells = EXPECTED[role, relation, state]
    assert (">Record payment</button>" in html) is (cells["record"] not in REFUSALS)
    assert (">Undo payment</button>" in html) is (cells["undo"] not in REFUSALS)
