"""The buttons: POST /bills/<id>/<action>, in place with htmx, or redirect-and-flash without; and
what a crafted form post can carry (a NUL byte from "%00", a price past any column) is an error
the person can read, never a 500 page: the buttons hand the services what was posted."""

from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from bills.models import Action, Bill, BillAction, Status
from bills.services import bill_approve, bill_reject, bill_send
from tests.factories import htmx

pytestmark = pytest.mark.django_db


def approved(bill, sales):
    return bill_approve(bill=bill, user=sales)


ACTIONS = ("approve", "reject", "revert", "update", "send", "void")


def test_anonymous_action_is_sent_to_welcome_and_changes_nothing(client, bill):
    response = client.post(f"/bills/{bill.pk}/approve")
    assert response.status_code == 302 and response["Location"] == "/welcome"
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT


def test_without_htmx_it_flashes_the_outcome_on_the_page_it_came_from(page_as, sales, bill):
    back = "/dashboard?awaiting=me"
    response = page_as(sales).post(f"/bills/{bill.pk}/approve", {"next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert f"Bill #{bill.pk}: approval recorded." in response.content.decode()


def test_an_unsafe_next_falls_back_to_the_bill(page_as, sales, bill):
    response = page_as(sales).post(f"/bills/{bill.pk}/approve", {"next": "https://evil.example/"})
    assert response["Location"] == f"/bills/{bill.pk}"


def test_from_the_bill_page_htmx_gets_the_bill_panel(page_as, sales, bill):
    response = page_as(sales).post(
        f"/bills/{bill.pk}/reject", {"comment": "not ours", "intent": "reject"}, **htmx("bill")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="bill"')
    assert "rejected" in html and "not ours" in html


def test_reject_without_a_comment_is_refused_and_keeps_the_form_open(page_as, sales, bill):
    response = page_as(sales).post(
        f"/bills/{bill.pk}/reject", {"comment": " "}, **htmx(f"bill-row-{bill.pk}")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "A comment is required to reject a bill." in html
    assert '<details class="popover" open>' in html
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT


def test_on_the_bill_page_a_missing_comment_shows_next_to_the_field(page_as, sales, bill):
    response = page_as(sales).post(f"/bills/{bill.pk}/reject", {"intent": "reject"}, **htmx("bill"))
    assert response.status_code == 400
    html = response.content.decode()
    assert '<details class="action-panel" open>' in html
    error = '<p class="field-error" id="reject-comment-error">A comment is required'
    assert error in html
    assert 'aria-invalid="true" aria-describedby="reject-comment-error"' in html


def test_without_htmx_an_invalid_action_flashes_the_reason(page_as, sales, bill):
    response = page_as(sales).post(f"/bills/{bill.pk}/reject", {"next": "/dashboard"}, follow=True)
    assert "A comment is required to reject a bill." in response.content.decode()


def test_a_conflict_shows_a_clear_message_and_the_fresh_row(page_as, sales, csm, bill):
    stale = page_as(csm)
    page_as(sales).post(f"/bills/{bill.pk}/approve", **htmx(f"bill-row-{bill.pk}"))
    response = stale.post(f"/bills/{bill.pk}/approve", **htmx(f"bill-row-{bill.pk}"))
    assert response.status_code == 409
    html = response.content.decode()
    assert f"Bill #{bill.pk} is approved; only draft bills can be approved." in html
    assert "badge-approved" in html and ">Approve</button>" not in html


def test_a_conflict_without_htmx_flashes_the_message(page_as, sales, csm, bill):
    approved(bill, sales)
    response = page_as(csm).post(
        f"/bills/{bill.pk}/reject", {"comment": "no", "next": "/dashboard"}, follow=True
    )
    assert "only draft bills can be rejected" in response.content.decode()


def test_unknown_bill_is_404(page_as, sales):
    assert page_as(sales).post("/bills/999999/approve").status_code == 404
    response = page_as(sales).post("/bills/999999/approve", **htmx("bill-row-999999"))
    assert response.status_code == 404
    assert response["HX-Retarget"] == "#messages"
    assert "Bill #999999 does not exist." in response.content.decode()


def test_a_huge_id_is_404_not_500(page_as, sales):
    assert page_as(sales).post("/bills/99999999999999999999999/approve").status_code == 404
    assert page_as(sales).get("/bills/99999999999999999999999").status_code == 404


def test_send_queues_the_invoice_email_and_the_worker_delivers_it(
    page_as, sales, finance, bill, run_tasks
):
    approved(bill, sales)
    response = page_as(finance).post(f"/bills/{bill.pk}/send", **htmx(f"bill-row-{bill.pk}"))
    assert response.status_code == 200
    assert f"sent; invoice email to {bill.customer.billing_email} queued." in response.text
    assert mail.outbox == []
    page = page_as(finance).get(f"/bills/{bill.pk}").text
    assert 'data-delivery="queued"' in page and "Email it again" not in page
    run_tasks()
    assert [m.to for m in mail.outbox] == [[bill.customer.billing_email]]
    page = page_as(finance).get(f"/bills/{bill.pk}").text
    assert 'data-delivery="delivered"' in page
    assert f"to {bill.customer.billing_email}: delivered" in page


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise SMTPException("mail server is down")


def test_a_failed_email_is_on_the_bill_page_and_finance_sends_it_again(
    page_as, sales, finance, bill, settings, run_tasks
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}
    settings.DELIVERY_BACKOFF_SECONDS = 0
    approved(bill, sales)
    page_as(finance).post(f"/bills/{bill.pk}/send")
    run_tasks()
    page = page_as(finance).get(f"/bills/{bill.pk}").text
    assert 'data-delivery="failed"' in page
    assert "failed after 5 attempts: SMTPException: mail server is down" in page
    assert "Email it again" in page
    assert "Email it again" not in page_as(sales).get(f"/bills/{bill.pk}").text
    assert page_as(sales).post(f"/bills/{bill.pk}/resend").status_code == 403
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    response = page_as(finance).post(f"/bills/{bill.pk}/resend", **htmx("bill"))
    assert response.status_code == 200
    assert "the email is queued again" in response.text
    run_tasks()
    assert [m.to for m in mail.outbox] == [[bill.customer.billing_email]]
    bill.refresh_from_db()
    assert bill.status == Status.SENT


def test_reprice_changes_the_unit_cost_and_recompute_does_not(page_as, finance, bill):
    client = page_as(finance)
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


def test_reprice_without_a_cost_is_refused_not_a_recompute(page_as, finance, bill):
    response = page_as(finance).post(
        f"/bills/{bill.pk}/update", {"comment": "deal", "intent": "reprice"}, **htmx("bill")
    )
    assert response.status_code == 400
    assert "Enter the new unit cost" in response.content.decode()
    assert bill.actions.count() == 1


def test_a_bad_unit_cost_is_shown_next_to_the_field(page_as, finance, bill):
    response = page_as(finance).post(
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


# GET /bills/<id>/send is the send preview (tests/bills/test_views_send_preview.py).
@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "send"])
def test_actions_need_a_post(page_as, sales, bill, action):
    assert page_as(sales).get(f"/bills/{bill.pk}/{action}").status_code == 405


def test_send_takes_get_for_its_preview_and_post_only_besides(page_as, finance, bill):
    assert page_as(finance).put(f"/bills/{bill.pk}/send").status_code == 405


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
    client.get("/dashboard?awaiting=")
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/bills/{bill.pk}/approve", HTTP_X_CSRFTOKEN=token, **htmx(f"bill-row-{bill.pk}")
    )
    assert response.status_code == 200


# --- hostile input -----------------------------------------------------------------------------

NUL_COMMENT = {"comment": "looks\x00fine"}


@pytest.mark.parametrize("action", ["approve", "reject", "update"])
def test_a_nul_byte_in_a_comment_is_refused_not_a_500(action, page_as, bill, sales, finance):
    user = finance if action == "update" else sales
    response = page_as(user).post(f"/bills/{bill.pk}/{action}", NUL_COMMENT, **htmx("bill"))
    assert response.status_code == 400
    assert "null characters" in response.content.decode()
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT
    assert not BillAction.objects.filter(comment__startswith="looks").exists()


def test_a_nul_byte_in_an_undo_comment_is_refused_not_a_500(page_as, bill, sales):
    bill_reject(bill=bill, user=sales, comment="Not this month.")
    response = page_as(sales).post(f"/bills/{bill.pk}/revert", NUL_COMMENT)
    assert response.status_code == 302  # back to the bill, with the message
    bill.refresh_from_db()
    assert bill.status == Status.REJECTED


def test_a_nul_byte_in_a_void_comment_is_refused_not_a_500(page_as, bill, sales, finance):
    bill_send(bill=bill_approve(bill=bill, user=sales), user=finance)
    response = page_as(finance).post(
        f"/bills/{bill.pk}/void", NUL_COMMENT, **htmx(f"bill-row-{bill.pk}")
    )
    assert response.status_code == 400
    bill.refresh_from_db()
    assert bill.status == Status.SENT


@pytest.mark.parametrize("cost", ["1" + "0" * 40, "100000000000000000000000"])
def test_repricing_with_a_huge_unit_cost_is_a_field_error_not_a_500(page_as, bill, finance, cost):
    data = {"intent": "reprice", "comment": "New price", "overage_unit_cost": cost}
    response = page_as(finance).post(f"/bills/{bill.pk}/update", data, **htmx("bill"))
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    bill.refresh_from_db()
    assert bill.actions.count() == 1  # created, nothing else
