"""/customers and /customers/<id>: the list with this month's usage, one customer's chart."""

import calendar
import re
from datetime import date

import pytest

from billing_site.core import periods
from customers.models import Customer
from tests.factories import ROLES, CustomerFactory, UsageFactory, htmx, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_welcome(client, customer):
    assert client.get("/customers")["Location"] == "/welcome?next=%2Fcustomers"
    assert client.get(f"/customers/{customer.pk}").status_code == 302


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_list_with_terms_and_usage(page_as, users, role, customer):
    today = periods.today()
    UsageFactory(customer=customer, year=today.year, month=today.month, api_usage=1_200_000)
    response = page_as(users[role]).get("/customers")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    for text in ("Acme Corp", "casey", "1M", "0.0025", "Jan 2020", "1.2M", "120%", "meter-over"):
        assert text in html, text


@pytest.mark.parametrize("role", ROLES)
def test_htmx_gets_only_the_results(page_as, users, role, customer):
    html = (
        page_as(users[role]).get("/customers?q=acme", **htmx("customer-results")).content.decode()
    )
    assert html.lstrip().startswith('<section id="customer-results"')
    assert "Acme Corp" in html and "<html" not in html


def test_it_searches_by_name(page_as, sales, customer):
    CustomerFactory(name="Globex")
    client = page_as(sales)
    html = client.get("/customers?q=glob").content.decode()
    assert "Globex" in html and "Acme Corp" not in html
    assert 'value="glob"' in html
    assert "No customers match “zzz”." in client.get("/customers?q=zzz").content.decode()


def test_a_search_that_cannot_be_read_is_said_on_its_field(page_as, sales, customer):
    response = page_as(sales).get("/customers?q=ac%00me")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Null characters are not allowed." in html and "Acme Corp" in html


def test_the_search_updates_the_list_in_place(page_as, sales):
    html = page_as(sales).get("/customers").content.decode()
    form = re.search(r'<form class="filters.*?>', html, re.S).group(0)
    assert 'hx-target="#customer-results"' in form and 'hx-push-url="true"' in form
    assert '<label for="id_q">Search customers</label>' in html


def test_it_paginates(page_as, sales):
    Customer.objects.bulk_create([CustomerFactory.build(name=f"C {i:03d}") for i in range(30)])
    client = page_as(sales)
    html = client.get("/customers").content.decode()
    assert "1–25 of 30 customers" in html and "C 024" in html and "C 025" not in html
    assert "C 025" in client.get("/customers?page=2").content.decode()


def test_customer_list_runs_a_fixed_number_of_queries(
    page_as, sales, csm, django_assert_max_num_queries
):
    today = periods.today()
    customers = Customer.objects.bulk_create(
        [CustomerFactory.build(name=f"C {i:03d}", csm=csm) for i in range(500)]
    )
    Usage.objects.bulk_create(
        [Usage(customer=c, year=today.year, month=today.month, api_usage=5) for c in customers]
    )
    client = page_as(sales)
    # ... and one for the navigation's count of the viewer's queue (bills.context_processors)
    with django_assert_max_num_queries(5):
        response = client.get("/customers")
    assert response.status_code == 200  # the page itself, not a cheap redirect or error


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_a_customer(page_as, users, role, customer):
    response = page_as(users[role]).get(f"/customers/{customer.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Acme Corp</h1>" in html and "billing" in html and "casey" in html


def test_the_chart_shows_months_of_usage_against_the_limit(page_as, sales, customer):
    year, month = periods.last_ended_month()
    UsageFactory(customer=customer, year=year, month=month, api_usage=1_500_000)
    py, pm = periods.previous_month(year, month)
    UsageFactory(customer=customer, year=py, month=pm, api_usage=400_000)
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    svg = re.search(r"<svg viewBox.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count('<g class="chart-bar"') == 13
    assert svg.count("data-partial") == 1, "the current month is marked as counted so far"
    assert svg.count('class="chart-over"') == 1
    assert 'class="chart-limit"' in svg and "limit 1M" in svg
    assert f"{periods.label(year, month)}: 1,500,000 calls, 500,000 over the limit" in svg
    assert "<script" not in html.split("</head>")[1]


def test_the_usage_table_and_bills_are_listed(page_as, sales, customer, finance):
    bill = make_bill(customer=customer, finance=finance)
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    assert "1,500,000" in html and "500,000" in html
    assert f'href="/bills/{bill.pk}"' in html and "1,250.00" in html
    assert "none recorded" in html


def test_a_customer_name_with_html_is_text(page_as, sales):
    evil = CustomerFactory(name="<img src=x onerror=alert(1)>Evil Corp")
    for path in ("/customers", f"/customers/{evil.pk}"):
        html = page_as(sales).get(path).content.decode()
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;Evil Corp" in html


def test_customer_page_runs_a_fixed_number_of_queries(
    page_as, sales, customer, finance, django_assert_max_num_queries
):
    year, month = periods.last_ended_month()
    for _ in range(12):
        make_bill(customer=customer, finance=finance, year=year, month=month)
        year, month = periods.previous_month(year, month)
    client = page_as(sales)
    # session, user, customer, bills, usage months, the months' judgements, the terms versions,
    # the navigation's count of the viewer's queue
    with django_assert_max_num_queries(8):
        response = client.get(f"/customers/{customer.pk}")
    assert response.status_code == 200  # the page itself, not a cheap redirect or error


def test_unknown_customer_is_404(page_as, sales):
    response = page_as(sales).get("/customers/4242")
    assert response.status_code == 404
    assert "Customer #4242 does not exist." in response.content.decode()


def test_customer_pages_refuse_post(page_as, sales, customer):
    assert page_as(sales).post("/customers").status_code == 405
    assert page_as(sales).post(f"/customers/{customer.pk}").status_code == 405


def meter_of(html: str, name: str) -> str:
    row = re.search(rf"<tr>\s*<td[^>]*><a [^>]*>{name}</a>.*?</tr>", html, re.S)
    assert row, f"no row for {name}"
    return row.group(0)


def test_usage_meters_share_one_scale_and_mark_the_limit(page_as, sales):
    today = periods.today()
    for name, usage in (("Under", 500_000), ("Near", 900_000), ("Over", 1_100_000)):
        UsageFactory(
            customer=CustomerFactory(name=name), year=today.year, month=today.month, api_usage=usage
        )
    html = page_as(sales).get("/customers").content.decode()
    under, near, over = (meter_of(html, n) for n in ("Under", "Near", "Over"))
    # The track runs to 125% of the limit: the limit mark sits at 80% on every row.
    for row in (under, near, over):
        assert '<rect class="meter-limit" x="80.0%"' in row
    assert 'class="meter-fill" x="0" y="1" width="40.0%"' in under and "meter-above" not in under
    assert "meter-near" in near and "72.0%" in near
    assert 'class="meter-above" x="80.0%" y="1" width="8.0%"' in over
    assert ">110%<" in over and 'class="meter-flag">over<' in over
    assert "style=" not in under + near + over, "widths are SVG attributes, not inline styles"


def test_an_ended_contract_is_marked(page_as, sales):
    CustomerFactory(name="Gone", start_date=date(2020, 1, 1), end_date=date(2021, 6, 30))
    html = page_as(sales).get("/customers").content.decode()
    assert "Jun 2021" in meter_of(html, "Gone") and '<span class="chip">ended</span>' in html


def test_the_chart_has_a_narrow_drawing_for_phones(page_as, sales, customer):
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    wide, narrow = re.findall(r"<svg viewBox=\"0 0 (\d+) \d+\" class=\"chart-(\w+)\"", html)
    assert wide == ("960", "wide") and narrow == ("360", "narrow")
    for variant in ("wide", "narrow"):
        assert f'aria-labelledby="chart-title-{variant} chart-desc-{variant}"' in html
        assert f'<title id="chart-title-{variant}">' in html
    assert ">API calls</text>" in html and ">so far</text>" in html
    assert "is the current month, counted so far" in html


def test_the_usage_table_marks_the_month_in_progress(page_as, sales, customer):
    today = periods.today()
    UsageFactory(customer=customer, year=today.year, month=today.month, api_usage=10)
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    label = f"{calendar.month_abbr[today.month]} {today.year}"
    assert f'{label}</time> <span class="chip">so far</span>' in html


# --- usage against the limit: near, at and over, and the month in progress ----------------------


def test_the_list_marks_near_at_and_over_exactly_not_by_the_rounded_percent(page_as, sales):
    today = periods.today()
    cases = {
        "Below": (799_999, "", "80%"),  # reads 80%, is below it
        "Near": (800_000, "near limit", "80%"),
        "Almost": (999_999, "near limit", "100%"),  # reads 100%, is not at the limit
        "At": (1_000_000, "at limit", "100%"),
        "Over": (1_000_001, "over", "100%"),  # reads 100%, is over
    }
    for name, (usage, _, _) in cases.items():
        customer = CustomerFactory(name=name, monthly_api_limit=1_000_000)
        UsageFactory(customer=customer, year=today.year, month=today.month, api_usage=usage)
    html = page_as(sales).get("/customers").content.decode()
    for name, (_, marker, percent) in cases.items():
        row = meter_of(html, name)
        flags = re.findall(r'class="meter-flag[^"]*"[^>]*>([^<]+)<', row)
        assert flags == ([marker] if marker else []), name
        assert f'<span class="meter-pct">{percent}</span>' in row, name
    assert "meter-near" in meter_of(html, "At") and "meter-over" in meter_of(html, "Over")
    assert "meter-near" not in meter_of(html, "Below")


def test_the_page_shows_this_month_and_its_projection(page_as, sales, customer, monkeypatch):
    monkeypatch.setattr(periods, "today", lambda: date(2025, 3, 10))
    UsageFactory(customer=customer, year=2025, month=3, api_usage=850_000)
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    # 850,000 x 31 / 10 = 2,635,000: 264% of the 1,000,000 limit (263.5, half-up).
    assert "March 2025 so far 850,000 calls, 85% of the limit near limit" in text
    assert "Projected by month end 2,635,000 calls, 264% of the limit over limit" in text
    assert "usage so far ÷ 10 days elapsed × 31 days" in text
    wide = re.search(r'<svg viewBox="0 0 960.*?</svg>', html, re.S).group(0)
    assert wide.count('class="chart-projected"') == 1 and 'class="chart-projected-over"' in wide
    assert "its dashed outline reaches the projection by month end, 2,635,000 calls" in wide
    assert "March 2025 (so far): 850,000 calls; projected 2,635,000 by month end" in wide
    assert "Projected by month end (2,635,000 calls)" in text


def test_no_projection_without_usage_this_month(page_as, sales, customer):
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    assert "no usage recorded yet" in html and "chart-projected" not in html


def test_suspicious_months_are_marked_in_the_chart_and_listed(page_as, sales, customer):
    year, month = periods.last_ended_month()
    period, history = (year, month), []
    for _ in range(6):
        period = periods.previous_month(*period)
        history.append(period)
    for y, m in history:
        UsageFactory(customer=customer, year=y, month=m, api_usage=100_000)
    UsageFactory(customer=customer, year=year, month=month, api_usage=420_000)
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    label = periods.label(year, month)
    reason = "4.2x the 6-month median of 100,000"
    wide = re.search(r'<svg viewBox="0 0 960.*?</svg>', html, re.S).group(0)
    assert wide.count("data-flagged") == 1 and wide.count('class="chart-flag"') == 1
    assert f"{label}: 420,000 calls. Suspicious: {reason}</title>" in wide
    assert "Months marked with an exclamation mark look suspicious" in wide
    section = html.split('id="suspicious-title"')[1].split("</section>")[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert f"{label} : 420,000 calls, {reason}" in text
    # The oldest months have fewer than 3 recorded months before them: not judged.
    oldest = [periods.label(*p)[:3] for p in history[-3:]]
    assert "Not judged, not enough history" in text and all(m in text for m in oldest)
