"""The approvers' digest: after a month-end generation commits, one email per person the new bills
wait on, with their count, exact total and a link to the queue; nobody who opted out."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import Role
from bills.models import Bill
from bills.services import bill_generate
from bills.services.digest import digest_recipients, digest_send, money_of
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, UserFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
# Unit cost 0.0025 per call over a limit of 1,000,000 (CustomerFactory's terms).
CUSTOMERS = {
    # name: (CSM, usage) -> the bill's amount
    "Acme": ("casey", 1_200_000),  # 200,000 calls: 500.00
    "Beta": ("casey", 1_000_333),  # 333 calls: 0.8325 -> 0.83
    "Orphan": (None, 3_000_001),  # 2,000,001 calls: 5000.0025 -> 5000.00
    "Cora Co": ("cora", 1_000_999),  # 999 calls: 2.4975 -> 2.50
    "Under": ("casey", 999_999),  # no overage, no bill
}
# Who hears, about how many bills, for how much: literal, by email address.
EXPECTED = {
    "sam@example.com": (4, "5,503.33"),  # Sales: every new bill
    "casey@example.com": (3, "5,500.83"),  # Acme, Beta, and Orphan (no CSM)
    "cora@example.com": (2, "5,002.50"),  # Cora Co and Orphan
    "cody@example.com": (1, "5,000.00"),  # Customer Success with no customers: Orphan
}


@pytest.fixture
def month_end(finance, sales, csm, other_csm, cs_user, settings):
    """The customers of CUSTOMERS with their usage, and the people who must not hear: Finance,
    a Sales user who opted out, an inactive one, one without an email."""
    settings.SITE_URL = "https://billing.example.com"
    people = {u.name: u for u in (csm, other_csm)}
    for name, (csm_name, usage) in CUSTOMERS.items():
        customer = CustomerFactory(name=name, csm=people.get(csm_name))
        UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=usage)
    UserFactory(name="sue", role=Role.SALES, notify_digest=False)
    UserFactory(name="old", role=Role.SALES, is_active=False)
    UserFactory(name="nomail", role=Role.SALES, email="")


def _generate(finance, capture):
    with capture(execute=True):
        return bill_generate(year=YEAR, month=MONTH, user=finance)


def _digests() -> dict[str, tuple[int, str]]:
    found = {}
    for message in mail.outbox:
        (to,) = message.to
        assert to not in found, f"two emails to {to}"
        count, _, rest = message.subject.partition(" new bill")
        found[to] = (int(count), rest.split(f"USD{NBSP}")[1].rstrip(")"))
    return found


def test_each_person_gets_one_email_with_the_count_and_the_exact_total(
    month_end, finance, django_capture_on_commit_callbacks
):
    result = _generate(finance, django_capture_on_commit_callbacks)
    assert result.created == 4
    assert _digests() == EXPECTED


def test_the_email_says_it_in_words_and_links_the_queue(
    month_end, finance, django_capture_on_commit_callbacks
):
    _generate(finance, django_capture_on_commit_callbacks)
    [email] = [m for m in mail.outbox if m.to == ["cora@example.com"]]
    assert email.subject == f"2 new bills wait for your approval (USD{NBSP}5,002.50)"
    assert email.from_email == "billing@localhost"
    assert "Hello cora," in email.body
    assert "made 2 new bills that wait for your approval: USD" in email.body
    assert "https://billing.example.com/dashboard?awaiting=me" in email.body
    assert "https://billing.example.com/profile" in email.body
    [single] = [m for m in mail.outbox if m.to == ["cody@example.com"]]
    assert single.subject == f"1 new bill waits for your approval (USD{NBSP}5,000.00)"
    assert "made 1 new bill that waits for your approval" in single.body


def test_it_goes_only_after_the_generation_commits(
    month_end, finance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        bill_generate(year=YEAR, month=MONTH, user=finance)
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 4


def test_a_run_that_makes_no_bill_sends_nothing(
    month_end, finance, django_capture_on_commit_callbacks
):
    _generate(finance, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    assert _generate(finance, django_capture_on_commit_callbacks).created == 0
    assert mail.outbox == []


def test_bills_decided_before_the_mail_goes_are_left_out(month_end, finance, sales):
    result = bill_generate(year=YEAR, month=MONTH, user=finance)
    Bill.objects.filter(customer__name__in=["Acme", "Orphan"]).update(status="rejected")
    assert digest_send(bill_ids=result.bill_ids, year=YEAR, month=MONTH) == 3
    assert _digests() == {
        "sam@example.com": (2, "3.33"),
        "casey@example.com": (1, "0.83"),
        "cora@example.com": (1, "2.50"),
    }


def test_a_mail_failure_is_logged_and_the_bills_are_made(
    month_end, finance, settings, caplog, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "tests.bills.failing_mail.FailingBackend"}}
    with caplog.at_level(logging.ERROR, logger="bills.services.digest"):
        result = _generate(finance, django_capture_on_commit_callbacks)
    assert result.created == 4 and Bill.objects.count() == 4
    assert sorted(r.getMessage() for r in caplog.records) == [
        "Approvers' digest to casey (casey@example.com) failed",
        "Approvers' digest to cody (cody@example.com) failed",
        "Approvers' digest to cora (cora@example.com) failed",
        "Approvers' digest to sam (sam@example.com) failed",
    ]


def test_totals_are_exact_decimals_per_currency(month_end, finance, settings):
    result = bill_generate(year=YEAR, month=MONTH, user=finance)
    found = {u.name: d for u, d in digest_recipients(bill_ids=result.bill_ids)}
    assert found["sam"] == (4, {"USD": Decimal("5503.33")})
    assert money_of({"USD": Decimal("0.83"), "EUR": Decimal("10")}) == (
        f"EUR{NBSP}10.00 + USD{NBSP}0.83"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "http://127.0.0.1:8000"), ("https://desk.example.com/", "https://desk.example.com")],
)
def test_site_url_comes_from_the_environment_without_a_trailing_slash(value, expected):
    from tests.billing_site.test_settings import _manage

    env = {"DEBUG": "1"} | ({"SITE_URL": value} if value else {})
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.SITE_URL)", **env
    )
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr
