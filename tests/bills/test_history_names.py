"""History that tells the truth later (SPEC "BillAction": the stakeholder "with the name and role
they had at the time"), and values in history normalised the way the bill stores them."""

import re
from decimal import Decimal

from accounts.models import Role
from billing_site.core import periods
from bills.services import bill_approve, bill_send, bill_update, payment_record
from bills.services.history import normalise_changes
from tests.factories import make_bill

TIMELINE_PEOPLE = re.compile(r'<strong>([^<]*)</strong>\s*<span class="role-chip">([^<]*)</span>')


def _timeline_people(html: str) -> list[tuple[str, str]]:
    return TIMELINE_PEOPLE.findall(html.split('id="history-title"', 1)[1])


def test_a_renamed_user_with_a_new_role_keeps_the_name_and_role_of_their_past_actions(
    customer, finance, csm, page_as, api_as
):
    bill = make_bill(customer=customer, finance=finance)
    bill_approve(bill=bill, user=csm)
    csm.name, csm.role = "casey-old", Role.SALES
    csm.save()

    html = page_as(finance).get(f"/bills/{bill.pk}").content.decode()
    assert _timeline_people(html) == [("fiona", "Finance"), ("casey", "Customer Success")]

    actions = api_as(finance).get(f"/api/bills/{bill.pk}").json()["actions"]
    assert [
        (a["action"], a["stakeholder_id"], a["stakeholder_name"], a["stakeholder_role"])
        for a in actions
    ] == [
        ("created", finance.pk, "fiona", "Finance"),
        ("approved", csm.pk, "casey", "Customer Success"),  # the live link is kept too
    ]


def test_an_action_after_the_rename_carries_the_new_name(customer, finance, csm):
    bill = make_bill(customer=customer, finance=finance)
    csm.name = "casey-new"
    csm.save()
    bill = bill_approve(bill=bill, user=csm)
    assert [(a.stakeholder_name, a.stakeholder_role) for a in bill.actions.all()] == [
        ("fiona", "Finance"),
        ("casey-new", "Customer Success"),
    ]


def test_history_stores_money_as_the_bill_does(customer, finance, sales):
    bill = make_bill(customer=customer, finance=finance)  # 500,000 calls over at 0.0025
    bill = bill_update(bill=bill, user=finance, comment="Agreed price.", overage_unit_cost="0.002")
    bill = bill_approve(bill=bill, user=sales)
    bill = bill_send(bill=bill, user=finance)
    payment_record(bill=bill, user=finance, date=periods.today(), amount="12.5", reference="R1")
    updated, paid = (
        bill.actions.get(action=action).changes for action in ("updated", "payment_recorded")
    )
    assert updated == {
        "overage_unit_cost": ["0.002500", "0.002000"],
        "overage_amount": ["1250.00", "1000.00"],
    }
    assert {key: paid[key] for key in ("payment_amount", "amount_paid")} == {
        "payment_amount": "12.50",
        "amount_paid": ["0.00", "12.50"],
    }


def test_changes_are_normalised_whatever_form_a_service_hands_them_in():
    changes = {
        "overage_amount": [Decimal("1.25E+3"), Decimal("-0.00")],
        "overage_unit_cost": ["0.0025", Decimal("2E-3")],
        "payment_amount": Decimal("12.5"),
        "amount_paid": ["-0", "12.5"],
        "api_usage": [1_500_000, 1_600_000],
        "approval": "csm",
        "approvals_cleared": 2,
    }
    assert normalise_changes(changes) == {
        "overage_amount": ["1250.00", "0.00"],
        "overage_unit_cost": ["0.002500", "0.002000"],
        "payment_amount": "12.50",
        "amount_paid": ["0.00", "12.50"],
        "api_usage": [1_500_000, 1_600_000],
        "approval": "csm",
        "approvals_cleared": 2,
    }
