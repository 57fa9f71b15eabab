"""The approvers' digest: after a month-end generation, one email to each person new bills wait
on, with how many, their exact total and a link to their queue (SPEC "Pages": "waiting for me").

Who waits is bills.queue's rule, applied to the bills the run made (all of them new drafts with
no approval yet): every Sales user; each CSM of a customer with a new bill; and for the new bills
of customers with no CSM, every Customer Success user. Only active users with an email who have
not turned the digest off on their profile (User.notify_digest). The mail goes after the
generation's transaction commits; a failure is logged, never raised: the bills are made.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal, localcontext
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string

from accounts.models import Role, User
from billing_site.core import periods
from billing_site.core.money import PRECISION, format_money, with_currency
from bills.models import Bill, Status
from bills.queue import queue_path

logger = logging.getLogger(__name__)

# {currency: exact total}: a run's bills share one currency, but a sum never mixes two.
Totals = dict[str, Decimal]


def digest_schedule(*, bill_ids: list[int], year: int, month: int) -> None:
    """Send the digests of the bills `bill_ids` (made by one generation of `year`-`month`) once
    the current transaction commits, or now outside one. Nothing for no bills."""
    if bill_ids:
        transaction.on_commit(partial(digest_send, bill_ids=list(bill_ids), year=year, month=month))


def digest_send(*, bill_ids: list[int], year: int, month: int) -> int:
    """Email each person the bills `bill_ids` wait on (the module's rule): one email per person,
    with the count, the exact total per currency and the absolute link to their queue
    (settings.SITE_URL). Returns how many emails went out. Never raises: a failure (the
    database, the mail server) is logged and the other emails still go. Two queries."""
    try:
        digests = digest_recipients(bill_ids=bill_ids)
    except Exception:
        logger.exception("Approvers' digest for %s-%02d: could not read its bills", year, month)
        return 0
    sent = 0
    for user, (count, totals) in digests:
        try:
            _message(user, count, totals, year=year, month=month).send()
            sent += 1
        except Exception:
            logger.exception("Approvers' digest to %s (%s) failed", user.name, user.email)
    return sent


def digest_recipients(*, bill_ids: list[int]) -> list[tuple[User, tuple[int, Totals]]]:
    """(user, (count, totals)) for everyone who should hear about the drafts among `bill_ids`,
    by name: counts are whole numbers, totals exact Decimals by currency. Two queries."""
    by_csm: dict[int | None, tuple[int, Totals]] = {}
    rows = Bill.objects.filter(pk__in=bill_ids, status=Status.DRAFT).values_list(
        "customer__csm_id", "currency", "overage_amount"
    )
    with localcontext(prec=PRECISION):
        for csm_id, currency, amount in rows.order_by().iterator(chunk_size=5000):
            count, totals = by_csm.get(csm_id, (0, defaultdict(Decimal)))
            totals[currency] += amount
            by_csm[csm_id] = (count + 1, totals)
    if not by_csm:
        return []
    every_bill = _sum(by_csm.values())
    unmanaged = by_csm.get(None, (0, {}))
    csm_ids = [pk for pk in by_csm if pk is not None]
    who = Q(role=Role.SALES) | Q(role=Role.CUSTOMER_SUCCESS, pk__in=csm_ids)
    if unmanaged[0]:
        who |= Q(role=Role.CUSTOMER_SUCCESS)
    users = User.objects.filter(who, is_active=True, notify_digest=True).exclude(email="")
    found = []
    for user in users.order_by("name"):
        if user.role == Role.SALES:
            found.append((user, every_bill))
        else:
            found.append((user, _sum([by_csm.get(user.pk, (0, {})), unmanaged])))
    return [(user, digest) for user, digest in found if digest[0]]


def _sum(parts) -> tuple[int, Totals]:
    count, totals = 0, defaultdict(Decimal)
    with localcontext(prec=PRECISION):
        for n, amounts in parts:
            count += n
            for currency, amount in amounts.items():
                totals[currency] += amount
    return count, dict(totals)


def money_of(totals: Totals) -> str:
    """The totals as the pages write money, one per currency: "USD 1,234.50" (or
    "EUR 10.00 + USD 2.50")."""
    return " + ".join(
        with_currency(format_money(totals[code]), code) for code in sorted(totals)
    ) or with_currency(format_money(Decimal("0")))


def _message(user: User, count: int, totals: Totals, *, year: int, month: int) -> EmailMessage:
    context = {
        "user": user,
        "count": count,
        "total": money_of(totals),
        "period": periods.label(year, month),
        "queue_url": f"{settings.SITE_URL}{queue_path()}",
        "profile_url": f"{settings.SITE_URL}/profile",
    }
    noun = "bill waits" if count == 1 else "bills wait"
    return EmailMessage(
        subject=f"{count} new {noun} for your approval ({context['total']})",
        body=render_to_string("bills/email/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
