"""The email outbox (issue 12; SPEC "Bill lifecycle": sent, voided). Sending or voiding a bill
queues its document's email in the same transaction (`delivery_queue`); the background worker
delivers it (`delivery_attempt`), retrying with doubling backoff up to DELIVERY_MAX_ATTEMPTS;
Finance may resend (`delivery_resend`). Every step is a row in the bill's history that leaves
its status as it is.

At most once per delivery: an attempt is claimed ("sending", committed) before the mail server
is called. A worker killed while it holds a claim may or may not have handed the email over, so
`deliveries_settle` never retries it: it reports the delivery failed with that doubt, and a
person resends after checking. Each delivery's key is the email's Message-ID, so a repeat is
recognisable by the mail server and the customer.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, can, require
from billing_site.core import request_id
from billing_site.core.errors import DomainError
from bills.invoices import credit_note_message, invoice_message
from bills.models import (
    Action,
    Bill,
    BillAction,
    CreditNote,
    Delivery,
    DeliveryStatus,
    Invoice,
    Status,
)
from bills.services import lifecycle
from bills.services.history import HistoryEntry, history_row

logger = logging.getLogger(__name__)

# What a delivery left "sending" by a worker that stopped is reported as.
OUTCOME_UNKNOWN = (
    "the worker stopped while handing the email to the mail server, so it may or may not have "
    "arrived; check the mail server's log before resending"
)


def delivery_history(delivery: Delivery, action: Action, comment: str) -> BillAction:
    """Append a history row about `delivery` to its bill, leaving the bill as it is (status,
    version): the requester of the send is the row's stakeholder, the comment says what the
    outbox did. Returns the saved row."""
    bill = delivery.bill
    entry = HistoryEntry(
        stakeholder=delivery.requested_by, action=action, from_status=bill.status, comment=comment
    )
    row = history_row(bill, entry, created=False)
    row.changes = {"delivery": str(delivery.key)}
    row.save()
    return row


def _enqueue(delivery: Delivery, *, run_after=None) -> None:
    from bills.tasks import document_deliver_task  # the task module imports this one

    task = document_deliver_task
    if run_after is not None:
        task = task.using(run_after=run_after)
    task.enqueue(delivery_id=delivery.pk, request_id=request_id.current())


def delivery_queue(
    *,
    bill: Bill,
    user: User,
    invoice: Invoice | None = None,
    credit_note: CreditNote | None = None,
    comment: str = "",
) -> Delivery:
    """Queue the email of `invoice` or `credit_note` (exactly one) to the address frozen on it:
    a Delivery row, its task and an "email_queued" history row, all in the caller's
    transaction (RuntimeError outside one), so a rolled-back send queues nothing and a
    committed one is always delivered or reported failed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("delivery_queue runs inside the transaction that sends or voids.")
    document = invoice or credit_note
    delivery = Delivery.objects.create(
        bill=bill,
        invoice=invoice,
        credit_note=credit_note,
        to_email=document.bill_to_email,
        requested_by=user,
    )
    text = f"{delivery.document_title} queued for email to {delivery.to_email}."
    delivery_history(delivery, Action.EMAIL_QUEUED, f"{text} {comment}".strip())
    _enqueue(delivery)
    return delivery


def delivery_settled(delivery: Delivery) -> bool:
    """Whether a delivery is over (delivered or failed): only then may its document be emailed
    again (delivery_resend, and the bill page's button through resend_offered)."""
    return delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


def resend_offered(*, user: User, bill: Bill, latest: Delivery | None) -> bool:
    """Whether the bill page offers `user` "Email it again": Finance, and the bill's latest
    delivery is over. delivery_resend decides again under the bill's lock."""
    return latest is not None and delivery_settled(latest) and can(user, Perm.SEND_BILL, bill)


def delivery_resend(*, bill: Bill | int, user: User) -> Delivery:
    """Email the bill's latest document again (its credit note once void, else its invoice),
    the same PDF under a new delivery key: a history row says who asked. Finance only, and
    only when the last delivery of that document is delivered or failed (not while one is
    still queued or sending).

    Raises DomainError: not_found; forbidden (not Finance); conflict (nothing sent yet, or a
    delivery still under way)."""
    with transaction.atomic():
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.SEND_BILL, bill)
        invoice = Invoice.objects.filter(bill=bill).first()
        if invoice is None or bill.status not in (Status.SENT, Status.PAID, Status.VOID):
            raise DomainError.conflict(f"Bill #{bill.pk} has no invoice to email again.")
        credit_note = CreditNote.objects.filter(invoice=invoice).first()
        document = {"credit_note": credit_note} if credit_note else {"invoice": invoice}
        last = Delivery.objects.filter(bill=bill, **document).order_by("-id").first()
        if last is not None and not delivery_settled(last):
            raise DomainError.conflict(
                f"The {last.document_label} is still being emailed ({last.status}); "
                "wait for it to be delivered or to fail."
            )
        return delivery_queue(bill=bill, user=user, comment="Sent again.", **document)


def _claim(delivery_id: int, worker_id: str) -> Delivery | None:
    """Take a queued delivery for one attempt (committed before the mail server is called)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("bill", "invoice", "credit_note__invoice", "requested_by")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.QUEUED:
            return None  # done, failed, or held by another worker: a repeat task does nothing
        delivery.status = DeliveryStatus.SENDING
        delivery.claimed_by = worker_id
        delivery.attempts += 1
        delivery.save(update_fields=["status", "claimed_by", "attempts"])
    return delivery


def _message(delivery: Delivery):
    if delivery.credit_note_id:
        message = credit_note_message(delivery.credit_note)
    else:
        message = invoice_message(delivery.invoice)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    message.extra_headers["Message-ID"] = f"<{delivery.key}@{domain}>"
    message.extra_headers["X-Delivery-Key"] = str(delivery.key)
    message.to = [delivery.to_email]
    return message


def delivery_attempt(*, delivery_id: int, worker_id: str) -> str:
    """One attempt at a queued delivery, as the worker runs it: claim it, hand the email to the
    mail server through Django's mail framework, record the outcome. A failed attempt is
    retried after DELIVERY_BACKOFF_SECONDS x 2^(attempt-1) until DELIVERY_MAX_ATTEMPTS, then
    reported failed. Returns the delivery's status after the attempt ("delivered", "queued"
    for a retry, "failed"), or "skipped" when there was nothing to do."""
    delivery = _claim(delivery_id, worker_id)
    if delivery is None:
        return "skipped"
    try:
        _message(delivery).send(fail_silently=False)
    except Exception as exc:
        logger.warning("Delivery %s attempt %s failed: %s", delivery.key, delivery.attempts, exc)
        return _record_failure(delivery.pk, f"{type(exc).__name__}: {exc}"[:500])
    return _record_delivered(delivery.pk)


def _locked(delivery_id: int) -> Delivery:
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("bill", "invoice", "credit_note", "requested_by")
        .get(pk=delivery_id)
    )


def _record_delivered(delivery_id: int) -> str:
    with transaction.atomic():
        delivery = _locked(delivery_id)
        if delivery.status == DeliveryStatus.DELIVERED:
            return delivery.status
        now = timezone.now()
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = ""
        delivery.save(update_fields=["status", "delivered_at", "last_error"])
        document = CreditNote if delivery.credit_note_id else Invoice
        document_id = delivery.credit_note_id or delivery.invoice_id
        # The first delivery makes the document final (IssuedDocument.save refuses changes).
        document.objects.filter(pk=document_id, delivered_at__isnull=True).update(delivered_at=now)
        attempts = f" (attempt {delivery.attempts})" if delivery.attempts > 1 else ""
        delivery_history(
            delivery,
            Action.EMAIL_DELIVERED,
            f"{delivery.document_title} delivered to {delivery.to_email}{attempts}.",
        )
    return DeliveryStatus.DELIVERED


def _record_failure(delivery_id: int, reason: str) -> str:
    with transaction.atomic():
        delivery = _locked(delivery_id)
        if delivery.status != DeliveryStatus.SENDING:
            return delivery.status
        delivery.last_error = reason
        delivery.claimed_by = ""
        limit = settings.DELIVERY_MAX_ATTEMPTS
        if delivery.attempts >= limit:
            delivery.status = DeliveryStatus.FAILED
            delivery.save(update_fields=["status", "last_error", "claimed_by"])
            delivery_history(
                delivery,
                Action.EMAIL_FAILED,
                f"{delivery.document_title} to {delivery.to_email}: failed after "
                f"{delivery.attempts} attempt{'s' * (delivery.attempts != 1)}: {reason}",
            )
            return DeliveryStatus.FAILED
        wait = timedelta(seconds=settings.DELIVERY_BACKOFF_SECONDS * 2 ** (delivery.attempts - 1))
        delivery.status = DeliveryStatus.QUEUED
        delivery.next_attempt_at = timezone.now() + wait
        delivery.save(update_fields=["status", "last_error", "claimed_by", "next_attempt_at"])
        delivery_history(
            delivery,
            Action.EMAIL_RETRY,
            f"Attempt {delivery.attempts} of {limit} to email the {delivery.document_label} "
            f"failed: {reason}. Next attempt in {_duration(wait)}.",
        )
        _enqueue(delivery, run_after=delivery.next_attempt_at)
    return DeliveryStatus.QUEUED


def _duration(wait: timedelta) -> str:
    seconds = wait.total_seconds()
    if seconds < 120:
        return f"{seconds:g} s"
    return f"{int(seconds) // 60} min"


def deliveries_settle(*, alive: set[str]) -> int:
    """What the heartbeat does for the outbox (billing_site.core.worker): a delivery left
    "sending" by a worker no longer alive is reported failed with OUTCOME_UNKNOWN (never
    retried by itself: it may have arrived), and a queued delivery whose task is no longer
    waiting or running (its worker was killed before the claim) is queued again. Returns how
    many deliveries it settled."""
    from django_tasks_db.models import DBTaskResult

    settled = 0
    stale = Delivery.objects.filter(status=DeliveryStatus.SENDING).exclude(claimed_by__in=alive)
    for delivery_id in stale.values_list("id", flat=True)[:500]:
        with transaction.atomic():
            delivery = _locked(delivery_id)
            if delivery.status != DeliveryStatus.SENDING or delivery.claimed_by in alive:
                continue
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = OUTCOME_UNKNOWN
            delivery.claimed_by = ""
            delivery.save(update_fields=["status", "last_error", "claimed_by"])
            delivery_history(
                delivery,
                Action.EMAIL_FAILED,
                f"{delivery.document_title} to {delivery.to_email}: {OUTCOME_UNKNOWN}.",
            )
            settled += 1
    # Queued deliveries past their time whose task is gone: queue a new task.
    overdue = timezone.now() - timedelta(seconds=settings.WORKER_GONE_SECONDS)
    waiting = list(
        Delivery.objects.filter(
            status=DeliveryStatus.QUEUED, next_attempt_at__lt=overdue
        ).values_list("id", flat=True)[:500]
    )
    if waiting:
        pending = {
            kwargs.get("delivery_id")
            for kwargs in DBTaskResult.objects.filter(
                task_path__endswith="document_deliver_task",
                status__in=["READY", "RUNNING"],
            ).values_list("args_kwargs__kwargs", flat=True)
            if isinstance(kwargs, dict)
        }
        for delivery_id in waiting:
            if delivery_id in pending:
                continue
            with transaction.atomic():
                delivery = _locked(delivery_id)
                if delivery.status == DeliveryStatus.QUEUED:
                    _enqueue(delivery)
                    settled += 1
    return settled
