"""Bulk approve, reject and send: the preview says what will happen to each bill and why, and
the action does exactly that through the single-bill services, one bill at a time."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import Role
from billing_site.core.errors import DomainError
from bills.models import Bill, BillAction, DocumentSequence, Invoice, Status
from bills.services import bill_approve
from bills.services.bulk import Total, bulk_apply, bulk_counts, bulk_preview
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, UserFactory, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def draft(finance, **customer_fields) -> Bill:
    """A draft for YEAR-MONTH: 1,500,000 calls over a 1,000,000 limit at 0.0025, USD 1,250.00."""
    return make_bill(finance=finance, year=YEAR, month=MONTH, **customer_fields)


def change_usage(bill: Bill, api_usage: int) -> None:
    Usage.objects.filter(customer=bill.customer, year=bill.year, month=bill.month).update(
        api_usage=api_usage
    )


def history_rows() -> int:
    return BillAction.objects.count()


@pytest.fixture
def mixed(finance, sales, csm, other_csm):
    """Five drafts of customers casey (`csm`) manages, as the brief's example: two ready, one
    another CSM's, one approved already, one whose usage changed."""
    bills = {
        "ready_1": draft(finance, name="Alpha", csm=csm),
        "ready_2": draft(finance, name="Bravo", csm=csm, api_usage=2_000_000),
        "other_csm": draft(finance, name="Charlie", csm=other_csm),
        "approved": draft(finance, name="Delta", csm=csm),
        "stale": draft(finance, name="Echo", csm=csm),
    }
    bill_approve(bill=bills["approved"], user=sales)
    change_usage(bills["stale"], 1_600_000)
    return {name: bill.pk for name, bill in bills.items()}


def test_the_preview_says_per_bill_what_will_happen_and_the_exact_total(mixed, csm):
    ids = [*mixed.values(), MISSING]
    preview = bulk_preview(user=csm, action="approve", bill_ids=ids)
    assert [item.as_dict() for item in preview.items] == [
        {
            "id": mixed["ready_1"],
            "outcome": "ready",
            "status": "draft",
            "detail": "Will be approved.",
        },
        {
            "id": mixed["ready_2"],
            "outcome": "ready",
            "status": "draft",
            "detail": "Will be approved.",
        },
        {"id": mixed["other_csm"], "outcome": "skipped", "status": "draft", "detail": "not yours"},
        {
            "id": mixed["approved"],
            "outcome": "skipped",
            "status": "approved",
            "detail": "wrong status (approved)",
        },
        {
            "id": mixed["stale"],
            "outcome": "skipped",
            "status": "draft",
            "detail": "usage changed: recompute first",
        },
        {"id": MISSING, "outcome": "skipped", "status": None, "detail": "not found"},
    ]
    # 1,250.00 + 2,500.00
    assert preview.count == 2
    assert preview.totals == [Total("USD", 2, Decimal("3750.00"))]


def test_the_preview_writes_nothing(mixed, csm, django_assert_max_num_queries):
    rows = history_rows()
    with django_assert_max_num_queries(2):  # the bills, and their months' usage history
        bulk_preview(user=csm, action="approve", bill_ids=list(mixed.values()))
    assert history_rows() == rows
    assert Bill.objects.get(pk=mixed["ready_1"]).status == Status.DRAFT


def test_bulk_approve_acts_on_the_ready_bills_and_skips_the_others(mixed, csm):
    rows = history_rows()
    outcomes = bulk_apply(user=csm, action="approve", bill_ids=[*mixed.values(), MISSING])
    assert [o.as_dict() for o in outcomes] == [
        {
            "id": mixed["ready_1"],
            "outcome": "approved",
            "status": "approved",
            "detail": "Approved: it waits for Finance to send it.",
        },
        {
            "id": mixed["ready_2"],
            "outcome": "approved",
            "status": "approved",
            "detail": "Approved: it waits for Finance to send it.",
        },
        {"id": mixed["other_csm"], "outcome": "skipped", "status": "draft", "detail": "not yours"},
        {
            "id": mixed["approved"],
            "outcome": "skipped",
            "status": "approved",
            "detail": "wrong status (approved)",
        },
        {
            "id": mixed["stale"],
            "outcome": "skipped",
            "status": "draft",
            "detail": "usage changed: recompute first",
        },
        {"id": MISSING, "outcome": "skipped", "status": None, "detail": "not found"},
    ]
    assert bulk_counts(action="approve", outcomes=outcomes) == {
        "approved": 2,
        "skipped": 4,
        "failed": 0,
    }
    assert history_rows() == rows + 2
    approver = Bill.objects.get(pk=mixed["ready_1"]).csm_approved_by
    assert approver == csm


def test_an_approval_already_given_or_a_slot_taken_is_skipped(finance, sales, csm):
    mine = draft(finance, name="Two-step", csm=csm, require_csm_approval=True)
    bill_approve(bill=mine, user=sales)
    other_sales = UserFactory(name="sasha", role=Role.SALES)
    preview = bulk_preview(user=sales, action="approve", bill_ids=[mine.pk])
    assert preview.items[0].detail == "your approval is already given"
    preview = bulk_preview(user=other_sales, action="approve", bill_ids=[mine.pk])
    assert preview.items[0].detail == "its Sales approval is already given by another user"
    # The CSM's approval is still wanted: it completes the bill.
    preview = bulk_preview(user=csm, action="approve", bill_ids=[mine.pk])
    assert preview.items[0].detail == "Will be approved."


def test_an_approval_given_under_another_role_counts_as_given(finance, cs_user):
    # Four eyes: cody approved as Customer Success, then became Sales; the Sales slot is free
    # but the second approval must come from somebody else.
    bill = draft(finance, name="Two-step", csm=None, require_csm_approval=True)
    bill_approve(bill=bill, user=cs_user)
    cs_user.role = Role.SALES
    cs_user.save()
    [outcome] = bulk_apply(user=cs_user, action="approve", bill_ids=[bill.pk])
    assert outcome.as_dict() == {
        "id": bill.pk,
        "outcome": "skipped",
        "status": "draft",
        "detail": "your approval is already given",
    }


def test_a_first_of_two_approvals_says_one_more_is_needed(finance, sales, csm):
    bill = draft(finance, name="Two-step", csm=csm, require_csm_approval=True)
    preview = bulk_preview(user=sales, action="approve", bill_ids=[bill.pk])
    assert preview.items[0].detail == "Your approval will be recorded; it will still need 1 more."
    [outcome] = bulk_apply(user=sales, action="approve", bill_ids=[bill.pk])
    assert outcome.as_dict() == {
        "id": bill.pk,
        "outcome": "approved",
        "status": "draft",
        "detail": "Your approval is recorded; it still needs 1 more.",
    }


def test_suspicious_usage_is_skipped_even_with_a_comment(finance, sales):
    # Six months of 1.2M calls, then 9M: 7.5 times the median.
    customer = CustomerFactory(name="Spiky")
    year, month = YEAR, MONTH
    for _ in range(6):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        UsageFactory(customer=customer, year=year, month=month, api_usage=1_200_000)
    bill = make_bill(
        customer=customer, finance=finance, api_usage=9_000_000, year=YEAR, month=MONTH
    )
    [outcome] = bulk_apply(user=sales, action="approve", bill_ids=[bill.pk], comment="All fine.")
    assert outcome.as_dict() == {
        "id": bill.pk,
        "outcome": "skipped",
        "status": "draft",
        "detail": "suspicious usage: needs a comment, approve it on its own",
    }
    assert Bill.objects.get(pk=bill.pk).status == Status.DRAFT


def test_bulk_reject_needs_one_comment_and_keeps_it_on_every_bill(finance, sales):
    bills = [draft(finance, name=f"Reject {i}") for i in range(3)]
    ids = [b.pk for b in bills]
    rows = history_rows()
    for blank in ("", "   "):
        with pytest.raises(DomainError) as caught:
            bulk_apply(user=sales, action="reject", bill_ids=ids, comment=blank)
        assert caught.value.errors == {"comment": ["A comment is required to reject bills."]}
    assert history_rows() == rows
    outcomes = bulk_apply(user=sales, action="reject", bill_ids=ids, comment="Outage month.")
    assert [(o.outcome, o.status) for o in outcomes] == [("rejected", "rejected")] * 3
    comments = BillAction.objects.filter(bill__in=ids, action="rejected")
    assert sorted(comments.values_list("comment", flat=True)) == ["Outage month."] * 3


@pytest.mark.parametrize(
    ("role", "action", "message"),
    [
        ("sales", "send", "Your role (Sales) may not send bills."),
        ("csm", "send", "Your role (Customer Success) may not send bills."),
        ("finance", "approve", "Your role (Finance) may not approve bills."),
        ("finance", "reject", "Your role (Finance) may not reject bills."),
    ],
)
def test_a_role_without_the_action_is_refused_before_anything(users, bill, role, action, message):
    for run in (bulk_preview, bulk_apply):
        with pytest.raises(DomainError) as caught:
            kwargs = {"comment": "x"} if run is bulk_apply and action == "reject" else {}
            run(user=users[role], action=action, bill_ids=[bill.pk], **kwargs)
        assert (caught.value.kind, caught.value.message) == ("forbidden", message)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([], "Choose at least one bill."),
        ([1] * 501, "At most 500 bills at a time; 501 were given. Act on them in smaller groups."),
        ([True], "Each id is a whole number from 1 to 9223372036854775807."),
        ([1.0], "Each id is a whole number from 1 to 9223372036854775807."),
        (["1"], "Each id is a whole number from 1 to 9223372036854775807."),
        ([0], "Each id is a whole number from 1 to 9223372036854775807."),
        ([2**63], "Each id is a whole number from 1 to 9223372036854775807."),
        ("1,2", "Send the bill ids as a list."),
    ],
)
def test_bad_ids_are_refused_naming_ids(sales, ids, message):
    with pytest.raises(DomainError) as caught:
        bulk_preview(user=sales, action="approve", bill_ids=ids)
    assert caught.value.errors == {"ids": [message]}


def test_a_repeated_id_counts_once(finance, sales):
    bill = draft(finance)
    outcomes = bulk_apply(user=sales, action="approve", bill_ids=[bill.pk, bill.pk])
    assert [(o.id, o.outcome) for o in outcomes] == [(bill.pk, "approved")]


def test_an_unknown_action_is_refused(sales, bill):
    with pytest.raises(DomainError) as caught:
        bulk_preview(user=sales, action="revert", bill_ids=[bill.pk])
    assert caught.value.errors == {
        "action": ["“revert” is not a bulk action; use approve, reject or send."]
    }


def test_sending_takes_no_comment(finance, bill):
    with pytest.raises(DomainError) as caught:
        bulk_apply(user=finance, action="send", bill_ids=[bill.pk], comment="Hi")
    assert caught.value.errors == {"comment": ["Sending takes no comment."]}


# --- send ------------------------------------------------------------------------------------


def test_bulk_send_sends_each_bill_and_one_refusal_undoes_nothing_else(finance, sales, run_tasks):
    ok_1 = bill_approve(bill=draft(finance, name="One", billing_email="a@up.example"), user=sales)
    changed = bill_approve(
        bill=draft(finance, name="Two", billing_email="b@up.example"), user=sales
    )
    ok_2 = bill_approve(bill=draft(finance, name="Three", billing_email="c@up.example"), user=sales)
    no_email = bill_approve(bill=draft(finance, name="Four", billing_email=""), user=sales)
    still_draft = draft(finance, name="Five")
    ids = [ok_1.pk, changed.pk, ok_2.pk, no_email.pk, still_draft.pk]

    preview = bulk_preview(user=finance, action="send", bill_ids=ids)
    assert [(i.id, i.detail) for i in preview.items] == [
        (ok_1.pk, "Will be emailed to a@up.example."),
        (changed.pk, "Will be emailed to b@up.example."),
        (ok_2.pk, "Will be emailed to c@up.example."),
        (no_email.pk, "no valid billing email: correct the customer first"),
        (still_draft.pk, "wrong status (draft)"),
    ]
    assert preview.totals == [Total("USD", 3, Decimal("3750.00"))]

    # The confirmation showed version 1 of "Two"; it changed since, so that send is refused.
    versions = {pk: Bill.objects.get(pk=pk).version for pk in ids}
    versions[changed.pk] -= 1
    outcomes = bulk_apply(user=finance, action="send", bill_ids=ids, versions=versions)
    by_id = {o.id: o for o in outcomes}
    assert [o.id for o in outcomes] == ids
    assert (by_id[ok_1.pk].outcome, by_id[ok_1.pk].detail) == (
        "sent",
        "Sent; its invoice email to a@up.example is queued.",
    )
    assert (by_id[changed.pk].outcome, by_id[changed.pk].status) == ("failed", "approved")
    assert by_id[ok_2.pk].outcome == "sent"
    assert by_id[no_email.pk].outcome == by_id[still_draft.pk].outcome == "skipped"
    assert bulk_counts(action="send", outcomes=outcomes) == {"sent": 2, "skipped": 2, "failed": 1}
    assert mail.outbox == []
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == ["a@up.example", "c@up.example"]


def test_totals_are_exact_and_per_currency(finance, sales, settings):
    # 10 calls over at 0.333333 = 3.33333 -> 3.33; 500,000 over at 0.0025 = 1,250.00
    cents = draft(finance, name="Cents", api_usage=1_000_010, overage_unit_cost="0.333333")
    usd = draft(finance, name="Dollars")
    settings.CURRENCY = "EUR"
    eur = draft(finance, name="Euros", api_usage=1_000_004, overage_unit_cost="0.333333")
    preview = bulk_preview(user=sales, action="reject", bill_ids=[cents.pk, usd.pk, eur.pk])
    assert preview.totals == [
        Total("EUR", 1, Decimal("1.33")),
        Total("USD", 2, Decimal("1253.33")),
    ]


def test_nothing_is_numbered_by_a_send_preview(finance, sales):
    bill = bill_approve(bill=draft(finance), user=sales)
    bulk_preview(user=finance, action="send", bill_ids=[bill.pk])
    assert DocumentSequence.objects.count() == 0 and Invoice.objects.count() == 0
