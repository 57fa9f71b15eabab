"""The buttons: POST /bills/<id>/<action>, in place with htmx, or redirect-and-flash without."""

from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from bills.models import Action, Bill, Status
from bills.services import bill_approve
from tests.pages.conftest import htmx

pytestmark = pytest.mark.django_db


def approved(bill, sales):
    return bill_approve(bill=bill, user=sales)


ACTIONS = ("approve", "reject", "revert", "update", "send", "void")


def test_anonymous_action_is_sent_to_welcome_and_changes_nothing(client, bill):
    response = client.post(f"/bills/{bill.pk}/approve")
    assert response.status_code == 302 and response["Location"] == "/welcome"
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT


def test_without_htmx_it_flashes_the_outcome_on_the_page_it_came_from(as_user, sales, bill):
    response = as_user(sales).post(f"/bills/{bill.pk}/approve", {"next": "/dashboard"}, follow=True)
    assert response.redirect_chain == [("/dashboard", 302)]
    assert f"Bill #{bill.pk}: approval recorded." in response.content.decode()


def test_an_unsafe_next_falls_back_to_the_bill(as_user, sales, bill):
    response = as_user(sales).post(f"/bills/{bill.pk}/approve", {"next": "https://evil.example/"})
    assert response["Location"] == f"/bills/{bill.pk}"


def test_from_the_bill_page_htmx_gets_the_bill_panel(as_user, sales, bill):
    response = as_user(sales).post(
        f"/bills/{bill.pk}/reject", {"comment": "not ours", "intent": "reject"}, **htmx("bill")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="bill"')
    assert "rejected" in html and "not ours" in html


def test_reject_without_a_comment_is_refused_and_keeps_the_form_open(as_user, sales, bill):
    response = as_user(sales).post(
        f"/bills/{bill.pk}/reject", {"comment": " "}, **htmx(f"bill-row-{bill.pk}")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "A comment is required to reject a bill." in html
    assert '<details class="popover" open>' in html
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT


def test_on_the_bill_page_a_missing_comment_shows_next_to_the_field(as_user, sales, bill):
    response = as_user(sales).post(f"/bills/{bill.pk}/reject", {"intent": "reject"}, **htmx("bill"))
    assert response.status_code == 400
    html = response.content.decode()
    assert '<details class="action-panel" open>' in html
    error = '<p class="field-error" id="reject-comment-error">A comment is required'
    assert error in html
    assert 'aria-invalid="true" aria-describedby="reject-comment-error"' in html


def test_without_htmx_an_invalid_action_flashes_the_reason(as_user, sales, bill):
    response = as_user(sales).post(f"/bills/{bill.pk}/reject", {"next": "/dashboard"}, follow=True)
    assert "A comment is required to reject a bill." in response.content.decode()


def test_a_conflict_shows_a_clear_message_and_the_fresh_row(as_user, sales, csm, bill):
    stale = as_user(csm)
    as_user(sales).post(f"/bills/{bill.pk}/approve", **htmx(f"bill-row-{bill.pk}"))
    response = stale.post(f"/bills/{bill.pk}/approve", **htmx(f"bill-row-{bill.pk}"))
    assert response.status_code == 409
    html = response.content.decode()
    assert f"Bill #{bill.pk} is approved; only draft bills can be approved." in html
    assert "badge-approved" in html and ">Approve</button>" not in html


def test_a_conflict_without_htmx_flashes_the_message(as_user, sales, csm, bill):
    approved(bill, sales)
    response = as_user(csm).post(
        f"/bills/{bill.pk}/reject", {"comment": "no", "next": "/dashboard"}, follow=True
    )
    assert "only draft bills can be rejected" in response.content.decode()


def test_unknown_bill_is_404(as_user, sales):
    assert as_user(sales).post("/bills/999999/approve").status_code == 404
    response = as_user(sales).post("/bills/999999/approve", **htmx("bill-row-999999"))
    assert response.status_code == 404
    assert response["HX-Retarget"] == "#messages"
    assert "Bill #999999 does not exist." in response.content.decode()


def test_a_huge_id_is_404_not_500(as_user, sales):
    assert as_user(sales).post("/bills/99999999999999999999999/approve").status_code == 404
    assert as_user(sales).get("/bills/99999999999999999999999").status_code == 404


def test_send_emails_the_invoice_to_the_billing_address(as_user, sales, finance, bill):
    approved(bill, sales)
    response = as_user(finance).post(f"/bills/{bill.pk}/send", **htmx(f"bill-row-{bill.pk}"))
    assert response.status_code == 200
    assert f"sent to {bill.customer.billing_email}" in response.content.decode()
    assert [m.to for m in mail.outbox] == [[bill.customer.billing_email]]


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise SMTPException("mail server is down")


def test_a_failed_send_shows_the_delivery_message(as_user, sales, finance, bill, settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}
    approved(bill, sales)
    response = as_user(finance).post(f"/bills/{bill.pk}/send", **htmx(f"bill-row-{bill.pk}"))
    assert response.status_code == 502
    html = response.content.decode()
    assert "could not be emailed" in html and "mail server is down" in html
    assert "badge-approved" in html and ">Send</button>" in html
    bill.refresh_from_db()
    assert bill.status == Status.APPROVED


def test_reprice_changes_the_unit_cost_and_recompute_does_not(as_user, finance, bill):
    client = as_user(finance)
    client.post(
        f"/bills/{bill.pk}/update",
        {"comment": "deal", "overage_unit_cost": "0.001", "intent": "reprice"},
    )
    bill.refresh_from_db()
    assert str(bill.overage_unit_cost) == "0.001000" and str(bill.overage_amount) == "500.00"
    client.post(f"/bills/{bill.pk}/update", {"comment": "back to terms", "intent": "recompute"})
    bill.refresh_from_db()
    assert str(bill.overage_unit_cost) == "0.002500"
    assert [a.action for a in bill.actions.all()] == [
        Action.CREATED,
        Action.UPDATED,
        Action.UPDATED,
    ]


def test_reprice_without_a_cost_is_refused_not_a_recompute(as_user, finance, bill):
    response = as_user(finance).post(
        f"/bills/{bill.pk}/update", {"comment": "deal", "intent": "reprice"}, **htmx("bill")
    )
    assert response.status_code == 400
    assert "Enter the new unit cost" in response.content.decode()
    assert bill.actions.count() == 1


def test_a_bad_unit_cost_is_shown_next_to_the_field(as_user, finance, bill):
    response = as_user(finance).post(
        f"/bills/{bill.pk}/update",
        {"comment": "deal", "intent": "reprice", "overage_unit_cost": "0.0000001"},
        **htmx("bill"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    error = '<p class="field-error" id="reprice-cost-error">Use at most 6 decimal places.</p>'
    assert error in html
    assert 'aria-describedby="reprice-cost-help reprice-cost-error" aria-invalid="true"' in html
    assert 'value="0.0000001"' in html


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_need_a_post(as_user, sales, bill, action):
    assert as_user(sales).get(f"/bills/{bill.pk}/{action}").status_code == 405


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_need_the_csrf_token(sales, finance, bill, action):
    client = Client(enforce_csrf_checks=True)
    client.force_login(finance if action in ("update", "send", "void") else sales)
    response = client.post(f"/bills/{bill.pk}/{action}", {"comment": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert Bill.objects.get(pk=bill.pk).actions.count() == 1


def test_the_csrf_header_htmx_sends_is_accepted(sales, bill):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales)
    client.get("/dashboard")
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/bills/{bill.pk}/approve", HTTP_X_CSRFTOKEN=token, **htmx(f"bill-row-{bill.pk}")
    )
    assert response.status_code == 200
