"""The record page's one-month form: a total already recorded is shown and replaced only once
confirmed; the message names the customer, the month and old -> new; the format's example
names a customer that exists; the CSV problems show the value at fault."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing_site.core import periods
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory
from usage.models import Usage, UsageRevision

pytestmark = pytest.mark.django_db

URL = "/usage/record"


@pytest.fixture
def fiona(page_as, finance):
    return page_as(finance)


def post(client, customer, api_usage, **extra):
    data = {
        "form": "entry",
        "entry-customer": customer.pk,
        "entry-year": YEAR,
        "entry-month": MONTH,
        "entry-api_usage": api_usage,
        **{f"entry-{k}": v for k, v in extra.items()},
    }
    return client.post(URL, data)


def flashes(response) -> list[str]:
    html = response.content.decode()
    return [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(r'<span class="flash-text">(.*?)</span>', html, re.S)
    ]


def test_a_new_month_is_recorded_at_once_and_named(fiona, customer):
    response = post(fiona, customer, 15_000)
    assert flashes(response) == ["Acme Corp, Mar 2025: 15,000 API calls, a new month."]
    assert Usage.objects.get().api_usage == 15_000


def test_a_recorded_total_is_shown_and_kept_until_confirmed(fiona, customer):
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=12_000)
    response = post(fiona, customer, 15_000)
    html = re.sub(r"\s+", " ", response.content.decode())
    assert "Acme Corp, Mar 2025 already has usage recorded." in html
    assert "Currently 12,000; you are setting 15,000 API calls." in html
    assert '<input type="hidden" name="entry-confirm_old" value="12000">' in html
    assert "Confirm: replace 12,000 with 15,000</button>" in html
    assert 'name="entry-api_usage" value="15000"' in html  # what was typed stays
    assert flashes(response) == []
    assert Usage.objects.get().api_usage == 12_000 and not UsageRevision.objects.exists()

    confirmed = post(fiona, customer, 15_000, confirm_old=12_000)
    assert flashes(confirmed) == ["Acme Corp, Mar 2025: 12,000 → 15,000 API calls."]
    assert Usage.objects.get().api_usage == 15_000
    assert list(UsageRevision.objects.values_list("old_value", "new_value")) == [(12_000, 15_000)]


def test_a_confirmation_of_another_total_asks_again(fiona, customer):
    # Someone recorded 13,000 after the page showed 12,000: the person has not seen it.
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=13_000)
    response = post(fiona, customer, 15_000, confirm_old=12_000)
    assert "Currently 13,000; you are setting 15,000 API calls." in re.sub(
        r"\s+", " ", response.content.decode()
    )
    assert Usage.objects.get().api_usage == 13_000


def test_the_same_total_needs_no_confirmation(fiona, customer):
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=12_000)
    response = post(fiona, customer, 12_000)
    assert flashes(response) == ["Acme Corp, Mar 2025: 12,000 API calls, unchanged."]


def test_the_example_names_the_first_customer_by_name(fiona):
    zed = CustomerFactory(name="Zed Ltd")
    alpha = CustomerFactory(name="Alpha Inc")
    html = fiona.get(URL).content.decode()
    example = re.search(r"<pre [^>]*><code>(.*?)</code></pre>", html, re.S).group(1)
    year, month = periods.last_ended_month()
    assert example.splitlines() == [
        "customer_id,year,month,api_usage",
        f"{alpha.pk},{year},{month},1250000",
    ]
    assert f"({alpha.pk} is Alpha Inc)" in html
    assert not any(line.startswith(f"{zed.pk},") for line in example.splitlines())


def test_without_customers_the_example_has_no_line(fiona):
    html = fiona.get(URL).content.decode()
    example = re.search(r"<pre [^>]*><code>(.*?)</code></pre>", html, re.S).group(1)
    assert example == "customer_id,year,month,api_usage"
    assert "There are no customers yet" in html


def test_the_problems_of_a_file_show_the_value_at_fault(fiona, customer):
    content = (
        "customer_id,year,month,api_usage\n"
        f"{customer.pk},2025,13,100\n"
        f"{customer.pk},2025,2,-5\n"
        "999999,2025,2,7\n"
        f"{customer.pk},2025,1,\n"
        "84,2025\n"
    )
    upload = SimpleUploadedFile("usage.csv", content.encode(), content_type="text/csv")
    html = fiona.post(URL, {"form": "upload", "upload-file": upload}).content.decode()
    cells = re.findall(
        r'<td data-label="Line" class="num">(\d+)</td>\s*<td data-label="Column">(.*?)</td>\s*'
        r'<td data-label="Value" class="cell-value">(.*?)</td>',
        html,
        re.S,
    )
    shown = [
        (line, re.sub(r"<[^>]+>", "", col), re.sub(r"<[^>]+>", "", value))
        for line, col, value in cells
    ]
    assert shown == [
        ("2", "month", "13"),
        ("3", "api_usage", "-5"),
        ("4", "customer_id", "999999"),
        ("5", "api_usage", "empty"),
        ("6", "the row", "84,2025"),
    ]
