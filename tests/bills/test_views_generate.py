"""POST /bills/generate: Finance starts a month end from the dashboard; the worker runs it and
the panel follows its job (GET /bills/jobs/<id>) to the summary."""

import re

import pytest
from django.test import Client

from billing_site.core import periods
from bills.models import Bill
from customers.models import Customer
from tests.factories import ROLES, CustomerFactory, UsageFactory, htmx
from tests.tasks import tasks_run

pytestmark = pytest.mark.django_db


def _generated(client, data):
    """Start the month end from the panel, let the worker run it, and answer the panel's next
    poll of the job."""
    started = client.post("/bills/generate", data, **htmx("generate-panel"))
    assert started.status_code == 202, started.text
    [job_url] = set(re.findall(r'hx-get="(/bills/jobs/[0-9a-f-]+)"', started.text))
    tasks_run()
    return client.get(job_url, **htmx("generate-job"))


@pytest.fixture
def month_with_usage(csm):
    """Last month: two customers over their limit, one under, one already billed later."""
    year, month = periods.last_ended_month()
    for name, usage in (("Over A", 1_500_000), ("Over B", 3_000_000), ("Under", 10)):
        UsageFactory(
            customer=CustomerFactory(name=name, csm=csm), year=year, month=month, api_usage=usage
        )
    return {"year": year, "month": month}


def test_finance_generates_and_sees_a_summary_in_place(page_as, finance, month_with_usage):
    client = page_as(finance)
    started = client.post("/bills/generate", month_with_usage, **htmx("generate-panel"))
    assert started.status_code == 202
    assert started.text.lstrip().startswith('<section id="generate-panel"')
    assert "waiting for the background worker" in started.text
    assert 'hx-trigger="every 1s"' in started.text
    assert Bill.objects.count() == 0  # the worker makes them
    [job_url] = set(re.findall(r'hx-get="(/bills/jobs/[0-9a-f-]+)"', started.text))
    tasks_run()
    response = client.get(job_url, **htmx("generate-job"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="generate-job"')
    assert "every 1s" not in html  # finished: no more polling
    label = periods.label(month_with_usage["year"], month_with_usage["month"])
    assert f"<strong>{label}</strong>: created 2 bills, skipped 1." in html
    assert "no overage" in html
    assert "billsGenerated" in response["HX-Trigger"]
    assert Bill.objects.count() == 2


def test_running_it_again_skips_what_is_billed(page_as, finance, month_with_usage):
    client = page_as(finance)
    _generated(client, month_with_usage)
    response = _generated(client, month_with_usage)
    html = response.content.decode()
    assert "created 0 bills, skipped 3." in html and "already billed" in html
    assert "HX-Trigger" not in response


def test_without_htmx_it_redirects_to_the_job_page(page_as, finance, month_with_usage):
    client = page_as(finance)
    response = client.post("/bills/generate", month_with_usage, follow=True)
    [(job_url, code)] = response.redirect_chain
    assert code == 302
    assert job_url.startswith("/bills/jobs/")
    assert "waiting for the background worker" in response.text
    tasks_run()
    html = client.get(job_url).text
    assert "created 2 bills, skipped 1." in html and "<h1>Month end" in html


def test_the_summary_names_the_skipped_customers_with_links(page_as, finance, month_with_usage):
    client = page_as(finance)
    _generated(client, month_with_usage)
    html = _generated(client, month_with_usage).text
    over_a, over_b, under = (Customer.objects.get(name=n).pk for n in ("Over A", "Over B", "Under"))
    reasons = re.findall(
        r'<span class="count">(\d+)</span> ([a-z ]+)</summary>\s*<p class="small">(.*?)</p>', html
    )
    assert reasons == [
        (
            "2",
            "already billed",
            f'<a href="/customers/{over_a}">Over A</a>, <a href="/customers/{over_b}">Over B</a>',
        ),
        ("1", "no overage", f'<a href="/customers/{under}">Under</a>'),
    ]


def test_the_summary_names_twenty_customers_a_reason_and_counts_the_rest(page_as, finance):
    year, month = periods.last_ended_month()
    for n in range(23):
        UsageFactory(
            customer=CustomerFactory(name=f"Quiet {n:02d}"), year=year, month=month, api_usage=5
        )
    html = _generated(page_as(finance), {"year": year, "month": month}).text
    assert "Quiet 19</a> and 3 more</p>" in html
    assert "Quiet 20" not in html


def test_a_month_that_has_not_ended_is_refused_inline(page_as, finance):
    today = periods.today()
    response = page_as(finance).post(
        "/bills/generate", {"year": today.year, "month": today.month}, **htmx("generate-panel")
    )
    assert response.status_code == 400
    assert "has not ended yet" in response.content.decode()


def test_bad_input_is_refused_inline(page_as, finance):
    response = page_as(finance).post("/bills/generate", {"year": "x", "month": 13}, **htmx("g"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "“x” is not a whole number: type digits only." in html
    assert "Select a valid choice." in html
    assert not Bill.objects.exists()


# The year is typed: digits only. Django's IntegerField read "2026.0" and "2026.000" as 2026.
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("{year}.0", "“{year}.0” is not a whole number: type digits only."),
        ("{year}.000", "“{year}.000” is not a whole number: type digits only."),
        ("2e3", "“2e3” is not a whole number: type digits only."),
        ("+{year}", "“+{year}” is not a whole number: type digits only."),
        ("{wide}", "“{wide}” is not a whole number: type digits only."),  # fullwidth digits
        ("2_026", "“2_026” is not a whole number: type digits only."),
        ("2,026", "“2,026” is not a whole number: type digits only."),
        ("true", "“true” is not a whole number: type digits only."),
        ("-{year}", "Enter a year between 2000 and 2999."),
        ("1999", "Enter a year between 2000 and 2999."),
        ("3000", "Enter a year between 2000 and 2999."),
        ("9" * 50, "Enter a year between 2000 and 2999."),
        ("", "This field is required."),
    ],
)
def test_a_year_that_is_not_digits_is_refused_with_what_was_typed(
    page_as, finance, month_with_usage, typed, message
):
    year = str(month_with_usage["year"])
    wide = year.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    typed, message = (text.format(year=year, wide=wide) for text in (typed, message))
    data = {"year": typed, "month": month_with_usage["month"]}
    response = page_as(finance).post("/bills/generate", data, **htmx("generate-panel"))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Bill.objects.exists()


def test_the_typed_year_is_shown_escaped_and_shortened(page_as, finance, month_with_usage):
    data = {"year": "<b>" + "9" * 40, "month": month_with_usage["month"]}
    html = page_as(finance).post("/bills/generate", data, **htmx("g")).content.decode()
    assert "“&lt;b&gt;99999999999999999999999999…” is not a whole number" in html
    assert "<b>9" not in html


def test_without_htmx_the_refusal_is_a_flash_with_what_was_typed(page_as, finance):
    response = page_as(finance).post("/bills/generate", {"year": "2025.0", "month": 3}, follow=True)
    assert response.redirect_chain == [("/dashboard", 302)]
    assert "“2025.0” is not a whole number: type digits only." in response.content.decode()
    assert not Bill.objects.exists()


def test_a_year_in_digits_with_spaces_around_is_read(page_as, finance, month_with_usage):
    data = {"year": f" {month_with_usage['year']} ", "month": month_with_usage["month"]}
    _generated(page_as(finance), data)
    assert Bill.objects.count() == 2


@pytest.mark.parametrize("role", [r for r in ROLES if r != "finance"])
def test_other_roles_get_403(page_as, users, role, month_with_usage):
    client = page_as(users[role])
    page = client.post("/bills/generate", month_with_usage)
    assert page.status_code == 403
    assert "may not generate bills" in page.content.decode()
    fragment = client.post("/bills/generate", month_with_usage, **htmx("generate-panel"))
    assert fragment.status_code == 403
    assert "may not generate bills" in fragment.content.decode()
    assert Bill.objects.count() == 0


def test_anonymous_generate_is_sent_to_welcome(client, month_with_usage):
    assert client.post("/bills/generate", month_with_usage)["Location"] == "/welcome"
    assert Bill.objects.count() == 0


def test_generate_needs_a_post_and_the_csrf_token(finance, month_with_usage):
    client = Client(enforce_csrf_checks=True)
    client.force_login(finance)
    assert client.get("/bills/generate").status_code == 405
    assert client.post("/bills/generate", month_with_usage).status_code == 403
    assert Bill.objects.count() == 0


def test_two_starts_of_one_month_share_one_job(page_as, finance, month_with_usage):
    client = page_as(finance)
    first = client.post("/bills/generate", month_with_usage, **htmx("generate-panel"))
    second = client.post("/bills/generate", month_with_usage, **htmx("generate-panel"))
    urls = set(re.findall(r'hx-get="(/bills/jobs/[0-9a-f-]+)"', first.text + second.text))
    assert len(urls) == 1
    assert tasks_run() == 1
    assert Bill.objects.count() == 2


def test_a_running_job_shows_how_many_customers_are_done(page_as, finance, month_with_usage):
    from bills.models import Job

    client = page_as(finance)
    client.post("/bills/generate", month_with_usage, **htmx("generate-panel"))
    job = Job.objects.get()
    Job.objects.filter(pk=job.pk).update(status="running", total=3000, processed=1200)
    html = client.get(f"/bills/jobs/{job.pk}", **htmx("generate-job")).text
    assert "1,200 of 3,000 customers gone through" in html
    assert '<progress max="3000" value="1200"' in html
    assert 'hx-trigger="every 1s"' in html


def test_a_failed_job_says_why(page_as, finance, month_with_usage):
    from bills.models import Job

    client = page_as(finance)
    client.post("/bills/generate", month_with_usage, **htmx("generate-panel"))
    Job.objects.update(status="failed", error="The worker running it stopped.")
    job = Job.objects.get()
    html = client.get(f"/bills/jobs/{job.pk}", **htmx("generate-job")).text
    assert "the month end failed. The worker running it stopped." in html
    assert "every 1s" not in html


@pytest.mark.parametrize("role", [r for r in ROLES if r != "finance"])
def test_only_finance_sees_a_job(page_as, finance, users, role, month_with_usage):
    page_as(finance).post("/bills/generate", month_with_usage, **htmx("generate-panel"))
    from bills.models import Job

    job = Job.objects.get()
    assert page_as(users[role]).get(f"/bills/jobs/{job.pk}").status_code == 403
    assert page_as(finance).get("/bills/jobs/not-a-uuid").status_code == 404
