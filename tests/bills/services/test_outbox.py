"""The email outbox (issue 12): a send or void queues its document's email in its own
transaction; the worker delivers it, retries with doubling backoff up to the limit, reports
the outcome in the bill's history; a delivery a dead worker held is never sent twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from billing_site.core.errors import DomainError
from billing_site.core.worker import tasks_orphaned_fail
from bills.models import Action, Delivery, DeliveryStatus, Status
from bills.services import bill_send, bill_void
from bills.services.outbox import OUTCOME_UNKNOWN, deliveries_settle, delivery_resend
from tests.bills.failing_mail import FlakyBackend
from tests.factories import CustomerFactory

FAILING = {"default": {"BACKEND": "tests.bills.failing_mail.FailingBackend"}}
FLAKY = {"default": {"BACKEND": "tests.bills.failing_mail.FlakyBackend"}}


@pytest.fixture
def sent_bill(bill_in, finance):
    customer = CustomerFactory(name="Globex", billing_email="ap@globex.example")
    bill = bill_in(Status.APPROVED, customer=customer)
    return bill_send(bill=bill, user=finance)


def _actions(bill) -> list[str]:
    return [row.action for row in bill.actions.order_by("created_at", "id")]


def test_a_send_queues_one_delivery_and_its_task_in_the_same_transaction(sent_bill):
    [delivery] = Delivery.objects.filter(bill=sent_bill)
    assert (delivery.status, delivery.attempts, delivery.to_email) == (
        DeliveryStatus.QUEUED,
        0,
        "ap@globex.example",
    )
    assert delivery.invoice == sent_bill.invoice
    [task] = DBTaskResult.objects.all()
    assert task.args_kwargs["kwargs"]["delivery_id"] == delivery.pk
    assert _actions(sent_bill)[-2:] == [Action.SENT, Action.EMAIL_QUEUED]
    assert mail.outbox == []


def test_the_worker_delivers_once_and_the_history_says_so(sent_bill, run_tasks):
    assert run_tasks() == 1
    [message] = mail.outbox
    delivery = Delivery.objects.get(bill=sent_bill)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.delivered_at is not None
    assert str(delivery.key) in message.extra_headers["Message-ID"]
    sent_bill.invoice.refresh_from_db()
    assert sent_bill.invoice.delivered_at == delivery.delivered_at
    last = sent_bill.actions.order_by("id").last()
    assert last.action == Action.EMAIL_DELIVERED
    assert "delivered to ap@globex.example" in last.comment
    sent_bill.refresh_from_db()
    assert sent_bill.status == Status.SENT
    # A repeated task for the same delivery does nothing: one email per send.
    from bills.tasks import document_deliver_task

    document_deliver_task.enqueue(delivery_id=delivery.pk)
    run_tasks()
    assert len(mail.outbox) == 1


def test_a_mail_server_that_stays_down_fails_after_the_limit(sent_bill, run_tasks, settings):
    settings.MAILERS = FAILING
    settings.DELIVERY_BACKOFF_SECONDS = 0
    settings.DELIVERY_MAX_ATTEMPTS = 5
    assert run_tasks() == 5
    delivery = Delivery.objects.get(bill=sent_bill)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 5)
    assert "refused the connection" in delivery.last_error
    rows = list(sent_bill.actions.order_by("id"))
    assert [r.action for r in rows][-5:] == [Action.EMAIL_RETRY] * 4 + [Action.EMAIL_FAILED]
    assert "failed after 5 attempts: ConnectionRefusedError" in rows[-1].comment
    assert all(r.from_status == r.to_status == Status.SENT for r in rows[-5:])
    sent_bill.refresh_from_db()
    assert sent_bill.status == Status.SENT  # the invoice is issued; only its email failed
    assert mail.outbox == []


def test_retries_wait_twice_as_long_each_time(sent_bill, run_tasks, settings):
    settings.MAILERS = FAILING
    settings.DELIVERY_BACKOFF_SECONDS = 30
    before = timezone.now()
    assert run_tasks() == 1  # the retry is not ready yet
    waiting = DBTaskResult.objects.get(status="READY")
    assert timedelta(seconds=29) < waiting.run_after - before < timedelta(seconds=40)
    DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=timezone.now())
    before = timezone.now()
    assert run_tasks() == 1
    waiting = DBTaskResult.objects.get(status="READY")
    assert timedelta(seconds=59) < waiting.run_after - before < timedelta(seconds=70)
    last = sent_bill.actions.order_by("id").last()
    assert "Attempt 2 of 5" in last.comment and "Next attempt in 60 s" in last.comment


def test_a_flaky_mail_server_delivers_on_a_later_attempt(sent_bill, run_tasks, settings):
    settings.MAILERS = FLAKY
    settings.DELIVERY_BACKOFF_SECONDS = 0
    FlakyBackend.failures = 2
    assert run_tasks() == 3
    assert len(mail.outbox) == 1
    delivery = Delivery.objects.get(bill=sent_bill)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert "(attempt 3)" in sent_bill.actions.order_by("id").last().comment


def test_voiding_queues_the_credit_note_to_where_the_invoice_went(sent_bill, finance, run_tasks):
    run_tasks()
    sent_bill.customer.billing_email = "new@globex.example"
    sent_bill.customer.save()
    bill_void(bill=sent_bill.pk, user=finance, comment="Billed in error")
    run_tasks()
    credit_note_email = mail.outbox[-1]
    assert credit_note_email.to == ["ap@globex.example"]
    assert "credit note CN-" in credit_note_email.subject
    delivery = Delivery.objects.filter(bill=sent_bill).first()  # newest first
    assert delivery.credit_note is not None and delivery.status == DeliveryStatus.DELIVERED


def test_finance_resends_a_delivered_invoice(sent_bill, finance, run_tasks):
    run_tasks()
    delivery_resend(bill=sent_bill.pk, user=finance)
    rows = list(sent_bill.actions.order_by("id"))
    assert rows[-1].action == Action.EMAIL_QUEUED and "Sent again." in rows[-1].comment
    run_tasks()
    assert len(mail.outbox) == 2
    first, second = Delivery.objects.filter(bill=sent_bill).order_by("id")
    assert first.key != second.key
    assert mail.outbox[0].attachments == mail.outbox[1].attachments  # the same PDF


def test_a_failed_invoice_can_be_resent(sent_bill, finance, run_tasks, settings):
    settings.MAILERS = FAILING
    settings.DELIVERY_BACKOFF_SECONDS = 0
    run_tasks()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    delivery_resend(bill=sent_bill.pk, user=finance)
    run_tasks()
    assert len(mail.outbox) == 1
    assert Delivery.objects.filter(bill=sent_bill).first().status == DeliveryStatus.DELIVERED


def test_resending_is_refused_while_an_email_is_under_way_or_for_others(
    sent_bill, finance, sales, bill_in
):
    with pytest.raises(DomainError) as caught:
        delivery_resend(bill=sent_bill.pk, user=finance)
    assert caught.value.kind == "conflict" and "still being emailed" in caught.value.message
    with pytest.raises(DomainError) as caught:
        delivery_resend(bill=sent_bill.pk, user=sales)
    assert caught.value.kind == "forbidden"
    draft = bill_in(Status.DRAFT, customer=CustomerFactory())
    with pytest.raises(DomainError) as caught:
        delivery_resend(bill=draft.pk, user=finance)
    assert caught.value.kind == "conflict"


def test_a_delivery_held_by_a_dead_worker_is_reported_and_never_retried(sent_bill):
    delivery = Delivery.objects.get(bill=sent_bill)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_by="dead-worker", attempts=1
    )
    DBTaskResult.objects.update(status="FAILED")  # its task died with the worker
    assert deliveries_settle(alive={"live-worker"}) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == OUTCOME_UNKNOWN
    assert not DBTaskResult.objects.filter(status="READY").exists()
    last = sent_bill.actions.order_by("id").last()
    assert last.action == Action.EMAIL_FAILED and "may or may not have arrived" in last.comment


def test_a_delivery_held_by_a_live_worker_is_left_alone(sent_bill):
    Delivery.objects.filter(bill=sent_bill).update(
        status=DeliveryStatus.SENDING, claimed_by="live-worker", attempts=1
    )
    assert deliveries_settle(alive={"live-worker"}) == 0
    assert Delivery.objects.get(bill=sent_bill).status == DeliveryStatus.SENDING


def test_a_queued_delivery_whose_task_died_is_queued_again(sent_bill, run_tasks, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.WORKER_GONE_SECONDS + 5)
    Delivery.objects.filter(bill=sent_bill).update(next_attempt_at=long_ago)
    DBTaskResult.objects.update(status="RUNNING", worker_ids=["dead-worker"])
    assert deliveries_settle(alive=set()) == 0  # its task still looks alive
    assert tasks_orphaned_fail(alive=set()) == 1
    assert deliveries_settle(alive=set()) == 1
    assert run_tasks() == 1
    assert len(mail.outbox) == 1


def test_the_worker_renders_the_pdf_once_and_a_download_before_it_gets_the_same(
    sent_bill, page_as, finance, run_tasks
):
    assert bytes(sent_bill.invoice.pdf) == b""  # the send itself renders nothing
    downloaded = page_as(finance).get(f"/bills/{sent_bill.pk}/invoice.pdf").content
    assert downloaded.startswith(b"%PDF")
    run_tasks()
    [message] = mail.outbox
    [(_, attached, _)] = message.attachments
    assert attached == downloaded
    sent_bill.invoice.refresh_from_db()
    assert bytes(sent_bill.invoice.pdf) == downloaded
