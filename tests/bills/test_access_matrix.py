"""Who may act on a bill, written out as data: the SPEC's "Roles", "Bill lifecycle" and
"Approvals" as one literal table, held against the API, the full pages, both htmx fragments and
the buttons the pages show.

The expected answers never come from the code under test: this module imports neither
accounts.roles nor the lifecycle table. The services only set a bill up in its state.

Each row is a role acting on a bill of a customer it has a relation to, in one state:
- relation: "own" the customer's csm is the acting user (for Finance and Sales: a former CSM
  whose role changed, so a rule keyed on customer.csm instead of the role shows up); "other" the
  customer has another CSM; "none" the customer has no CSM (any Customer Success user stands in).
- state: draft (one approval needed), draft_two (the customer requires CSM approval: two
  approvals, none given yet), draft_csm_approved and draft_sales_approved (two needed, the CSM's
  or a Sales user's given), approved, rejected, sent, paid (sent, then paid in full by
  Finance), void. The setup approvals and decisions
  come from people other than the acting user, except the CSM's own approval under "own".
- a cell: the status the bill ends in (the action happened and wrote one history row; re-bill
  leaves the void bill void, records it, and makes a new draft), or
  403 (refused for the role; checked before the status) or 409 (refused for the status, or
  the user's approval slot is already filled); a refusal changes nothing.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages

from accounts.models import Role
from billing_site.core import periods
from bills.models import Bill, BillAction
from bills.services import bill_approve, bill_reject, bill_send, bill_void, payment_record
from customers.models import Customer
from tests.factories import MONTH, YEAR, CustomerFactory, UserFactory, htmx, make_bill

pytestmark = pytest.mark.django_db

TABLE = """
role    relation state                approve  reject   revert update send void rebill dismiss
finance own      draft                403      403      403    draft  409  409 409 409
finance own      draft_two            403      403      403    draft  409  409 409 409
finance own      draft_csm_approved   403      403      403    draft  409  409 409 409
finance own      draft_sales_approved 403      403      403    draft  409  409 409 409
finance own      approved             403      403      403    409    sent 409 409 409
finance own      rejected             403      403      403    draft  409  409 409 409
finance own      sent                 403      403      403    409    409  void 409 409
finance own      paid                 403      403      403    409    409  409 409 409
finance own      void                 403      403      403    409    409  409 void 409

finance other    draft                403      403      403    draft  409  409 409 409
finance other    draft_two            403      403      403    draft  409  409 409 409
finance other    draft_csm_approved   403      403      403    draft  409  409 409 409
finance other    draft_sales_approved 403      403      403    draft  409  409 409 409
finance other    approved             403      403      403    409    sent 409 409 409
finance other    rejected             403      403      403    draft  409  409 409 409
finance other    sent                 403      403      403    409    409  void 409 409
finance other    paid                 403      403      403    409    409  409 409 409
finance other    void                 403      403      403    409    409  409 void 409

finance none     draft                403      403      403    draft  409  409 409 409
finance none     draft_two            403      403      403    draft  409  409 409 409
finance none     draft_csm_approved   403      403      403    draft  409  409 409 409
finance none     draft_sales_approved 403      403      403    draft  409  409 409 409
finance none     approved             403      403      403    409    sent 409 409 409
finance none     rejected             403      403      403    draft  409  409 409 409
finance none     sent                 403      403      403    409    409  void 409 409
finance none     paid                 403      403      403    409    409  409 409 409
finance none     void                 403      403      403    409    409  409 void 409

sales   own      draft                approved rejected 409    403    403  403 403 403
sales   own      draft_two            draft    rejected 409    403    403  403 403 403
sales   own      draft_csm_approved   approved rejected draft  403    403  403 403 403
sales   own      draft_sales_approved 409      rejected draft  403    403  403 403 403
sales   own      approved             409      409      draft  403    403  403 403 403
sales   own      rejected             409      409      draft  403    403  403 403 403
sales   own      sent                 409      409      409    403    403  403 403 403
sales   own      paid                 409      409      409    403    403  403 403 403
sales   own      void                 409      409      409    403    403  403 403 403

sales   other    draft                approved rejected 409    403    403  403 403 403
sales   other    draft_two            draft    rejected 409    403    403  403 403 403
sales   other    draft_csm_approved   approved rejected draft  403    403  403 403 403
sales   other    draft_sales_approved 409      rejected draft  403    403  403 403 403
sales   other    approved             409      409      draft  403    403  403 403 403
sales   other    rejected             409      409      draft  403    403  403 403 403
sales   other    sent                 409      409      409    403    403  403 403 403
sales   other    paid                 409      409      409    403    403  403 403 403
sales   other    void                 409      409      409    403    403  403 403 403

sales   none     draft                approved rejected 409    403    403  403 403 403
sales   none     draft_two            draft    rejected 409    403    403  403 403 403
sales   none     draft_csm_approved   approved rejected draft  403    403  403 403 403
sales   none     draft_sales_approved 409      rejected draft  403    403  403 403 403
sales   none     approved             409      409      draft  403    403  403 403 403
sales   none     rejected             409      409      draft  403    403  403 403 403
sales   none     sent                 409      409      409    403    403  403 403 403
sales   none     paid                 409      409      409    403    403  403 403 403
sales   none     void                 409      409      409    403    403  403 403 403

cs      own      draft                approved rejected 409    403    403  403 403 403
cs      own      draft_two            draft    rejected 409    403    403  403 403 403
cs      own      draft_csm_approved   409      rejected draft  403    403  403 403 403
cs      own      draft_sales_approved approved rejected draft  403    403  403 403 403
cs      own      approved             409      409      draft  403    403  403 403 403
cs      own      rejected             409      409      draft  403    403  403 403 403
cs      own      sent                 409      409      409    403    403  403 403 403
cs      own      paid                 409      409      409    403    403  403 403 403
cs      own      void                 409      409      409    403    403  403 403 403

cs      other    draft                403      403      403    403    403  403 403 403
cs      other    draft_two            403      403      403    403    403  403 403 403
cs      other    draft_csm_approved   403      403      403    403    403  403 403 403
cs      other    draft_sales_approved 403      403      403    403    403  403 403 403
cs      other    approved             403      403      403    403    403  403 403 403
cs      other    rejected             403      403      403    403    403  403 403 403
cs      other    sent                 403      403      403    403    403  403 403 403
cs      other    paid                 403      403      403    403    403  403 403 403
cs      other    void                 403      403      403    403    403  403 403 403

cs      none     draft                approved rejected 409    403    403  403 403 403
cs      none     draft_two            draft    rejected 409    403    403  403 403 403
cs      none     draft_csm_approved   409      rejected draft  403    403  403 403 403
cs      none     draft_sales_approved approved rejected draft  403    403  403 403 403
cs      none     approved             409      409      draft  403    403  403 403 403
cs      none     rejected             409      409      draft  403    403  403 403 403
cs      none     sent                 409      409      409    403    403  403 403 403
cs      none     paid                 409      409      409    403    403  403 403 403
cs      none     void                 409      409      409    403    403  403 403 403
"""
ROLES = ("finance", "sales", "cs")
RELATIONS = ("own", "other", "none")
STATES = (
    "draft",
    "draft_two",
    "draft_csm_approved",
    "draft_sales_approved",
    "approved",
    "rejected",
    "sent",
    "paid",
    "void",
)
ACTIONS = ("approve", "reject", "revert", "update", "send", "void", "rebill", "dismiss")
REFUSALS = ("403", "409")
RESULTS = ("draft", "approved", "rejected", "sent", "void")
TWO_APPROVALS = ("draft_two", "draft_csm_approved", "draft_sales_approved")


def parse(table: str) -> dict[tuple[str, str, str], dict[str, str]]:
    """{(role, relation, state): {action: cell}} from the table's text."""
    lines = [line.split() for line in table.strip().splitlines() if line.strip()]
    header, rows = lines[0], lines[1:]
    assert header == ["role", "relation", "state", *ACTIONS]
    expected = {}
    for role, relation, state, *cells in rows:
        assert (role, relation, state) not in expected, f"{role} {relation} {state} twice"
        expected[role, relation, state] = dict(zip(ACTIONS, cells, strict=True))
    return expected


EXPECTED = parse(TABLE)
ROWS = [pytest.param(*key, id="-".join(key)) for key in EXPECTED]

# What each action sends, on every channel.
BODIES = {
    "approve": {"comment": "Checked with the customer."},
    "reject": {"comment": "Goodwill for the outage."},
    "revert": {"comment": "Decided too early."},
    "update": {"comment": "Agreed a lower price.", "overage_unit_cost": "0.002"},
    "send": {},
    "void": {"comment": "Sent to the wrong address."},
    "rebill": {},
    "dismiss": {"comment": "The customer agreed to the amount as sent."},
}
# The buttons each page may show, and the action each one takes.
ROW_BUTTONS = {"Approve": "approve", "Reject": "reject", "Send": "send"}
PANEL_BUTTONS = {
    "Approve": "approve",
    "Reject": "reject",
    "Undo": "revert",
    "Recompute": "update",
    "Reprice": "update",
    "Send": "send",
    "Void": "void",
    "Re-bill": "rebill",
    "Dismiss": "dismiss",
}


def test_the_table_has_one_valid_row_per_role_relation_and_state():
    assert list(EXPECTED) == [(r, rel, s) for r in ROLES for rel in RELATIONS for s in STATES]
    cells = {cell for row in EXPECTED.values() for cell in row.values()}
    assert cells <= {*REFUSALS, *RESULTS}


@pytest.fixture
def actors(finance, sales, csm):
    """The acting user of each role: fiona (Finance), sam (Sales), casey (Customer Success)."""
    return {"finance": finance, "sales": sales, "cs": csm}


@pytest.fixture
def bill_for(actors, other_csm, cs_user):
    """bill_for(role, relation, state) -> a fresh bill of a new customer, set up by others."""
    maker = UserFactory(name="finance-maker", role=Role.FINANCE)
    sid = UserFactory(name="sid", role=Role.SALES)

    def make(role: str, relation: str, state: str) -> Bill:
        actor = actors[role]
        # Only a Customer Success user can give a CSM approval, so "own" for Finance and Sales
        # sets the bill up with another CSM and hands the customer to the actor afterwards.
        setup_csm = {"own": actor if role == "cs" else other_csm, "other": other_csm}
        customer = CustomerFactory(
            csm=setup_csm.get(relation),
            require_csm_approval=state in TWO_APPROVALS,
        )
        bill = make_bill(customer=customer, finance=maker, year=YEAR, month=MONTH)
        if state == "draft_csm_approved":
            bill = bill_approve(bill=bill, user=customer.csm or cs_user)
        elif state == "draft_sales_approved":
            bill = bill_approve(bill=bill, user=sid)
        elif state == "rejected":
            bill = bill_reject(bill=bill, user=sid, comment="Not this month.")
        elif state in ("approved", "sent", "paid", "void"):
            bill = bill_approve(bill=bill, user=sid)
        if state in ("sent", "paid", "void"):
            bill = bill_send(bill=bill, user=maker)
        if state == "paid":
            paid_on, amount = periods.today(), bill.overage_amount
            bill = payment_record(
                bill=bill, user=maker, date=paid_on, amount=amount, reference="TR-1"
            ).bill
        if state == "void":
            bill = bill_void(bill=bill, user=maker, comment="Wrong month.")
        if relation == "own" and role != "cs":
            Customer.objects.filter(pk=customer.pk).update(csm=actor)
        bill.refresh_from_db()
        # The state names start with the status the setup must reach.
        assert bill.status == state.partition("_")[0], f"setting up {state}: {bill.status}"
        return bill

    return make


# --- each channel's answer: "ok", "403", "409", or what else came back -----------------------


def by_api(client, bill: Bill, action: str) -> str:
    url = f"/api/bills/{bill.pk}" if action == "update" else f"/api/bills/{bill.pk}/{action}"
    if action == "rebill":  # it makes a new bill: POST, 201
        response = client.post(url, BODIES[action], format="json")
        answers = {201: "ok", 403: "403", 409: "409"}
    else:
        response = client.patch(url, BODIES[action], format="json")
        answers = {200: "ok", 403: "403", 409: "409"}
    return answers.get(response.status_code, f"HTTP {response.status_code} {response.content!r}")


NEXT = "/dashboard?status=draft"


def by_page(client, bill: Bill, action: str) -> str:
    """Without htmx: a redirect with a success flash, the 403 page, or a redirect with an error
    flash (the conflict)."""
    data = {**BODIES[action], "next": NEXT}
    if action == "update":
        data["intent"] = "reprice"
    response = client.post(f"/bills/{bill.pk}/{action}", data)
    flashes = tuple(m.level_tag for m in get_messages(response.wsgi_request))
    client.cookies.pop("messages", None)  # the next answer's flashes must be its own
    if response.status_code == 403:
        html = response.content.decode()
        refused = html.startswith("<!doctype html>") and "Your role may not do that" in html
        return "403" if refused else "HTTP 403 without the refusal page"
    if response.status_code == 302 and response["Location"] == NEXT:
        return {("success",): "ok", ("error",): "409"}.get(flashes, f"302 with flashes {flashes}")
    return f"HTTP {response.status_code}"


def by_htmx(target: str, opening: str):
    """With htmx, aimed at the dashboard row or the bill panel: that fragment, 200/403/409,
    with its notice (and on success the event that refreshes the status counts)."""

    def answer(client, bill: Bill, action: str) -> str:
        response = client.post(
            f"/bills/{bill.pk}/{action}",
            {**BODIES[action], "next": "/dashboard"},
            **htmx(target.format(pk=bill.pk)),
        )
        html = response.content.decode().lstrip()
        if not html.startswith(opening.format(pk=bill.pk)):
            return f"HTTP {response.status_code} without the {target} fragment"
        code = response.status_code
        refreshes = "billsChanged" in response.get("HX-Trigger", "")
        if code == 200 and 'role="status"' in html and refreshes:
            return "ok"
        if code in (403, 409) and 'role="alert"' in html:
            return str(code)
        return f"HTTP {code} without its notice"

    return answer


CHANNELS = {
    "api": by_api,
    "page": by_page,
    "htmx-row": by_htmx("bill-row-{pk}", '<tr id="bill-row-{pk}"'),
    "htmx-panel": by_htmx("bill", '<div id="bill"'),
}


def attempt(channel: str, client, bill: Bill, action: str) -> str:
    """The cell this attempt fills in: the new status after an "ok" that wrote exactly one
    history row of the bill's own (a send's or void's "email queued" row is the outbox's), the
    refusal when nothing changed, else what happened."""
    own = BillAction.objects.filter(bill=bill).exclude(action__startswith="email_")
    status, rows = bill.status, own.count()
    answer = CHANNELS[channel](client, bill, action)
    bill.refresh_from_db()
    added = own.count() - rows
    if answer == "ok" and added == 1:
        return bill.status
    if answer in REFUSALS and added == 0 and bill.status == status:
        return answer
    return f"{answer}, {status} -> {bill.status}, {added} history rows added"


@pytest.mark.parametrize(("role", "relation", "state"), ROWS)
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_answers_as_the_table_says(
    channel, role, relation, state, actors, bill_for, api_as, page_as
):
    user = actors[role]
    client = api_as(user) if channel == "api" else page_as(user)
    answers, bill = {}, None
    for action in ACTIONS:
        # Refusals leave the bill as it was; after anything else the next action needs a new one.
        bill = bill or bill_for(role, relation, state)
        answers[action] = attempt(channel, client, bill, action)
        if answers[action] not in REFUSALS:
            bill = None
    assert answers == EXPECTED[role, relation, state]


def buttons_in(html: str, buttons: dict[str, str]) -> set[str]:
    return {label for label in buttons if f">{label}</button>" in html}


@pytest.mark.parametrize(("role", "relation", "state"), ROWS)
def test_the_pages_show_exactly_the_buttons_the_table_allows(
    role, relation, state, actors, bill_for, page_as
):
    bill = bill_for(role, relation, state)
    ok = {action for action, cell in EXPECTED[role, relation, state].items() if cell in RESULTS}
    client = page_as(actors[role])
    dashboard = client.get("/dashboard?awaiting=").content.decode()  # every bill
    row = re.search(rf'<tr id="bill-row-{bill.pk}".*?</tr>', dashboard, re.S).group(0)
    assert buttons_in(row, ROW_BUTTONS) == {b for b, a in ROW_BUTTONS.items() if a in ok}
    panel = client.get(f"/bills/{bill.pk}").content.decode()
    assert buttons_in(panel, PANEL_BUTTONS) == {b for b, a in PANEL_BUTTONS.items() if a in ok}
