"""/usage and GET /api/usage/summary: the overview of a month, checked against figures computed
here from the rows the test wrote; who may read it; the month picker and its errors; the
projection of the month in progress on a fixed day; and a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from billing_site.core import periods
from bills.models import Bill, Status
from bills.services import bill_approve, bill_generate, bill_reject, bill_send, bill_void
from customers.models import Customer
from tests.factories import ROLES, CustomerFactory, htmx, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db

JUDGING = 1  # see tests/usage/test_analysis.py

YEAR, MONTH = 2025, 3
URL, API = "/usage", "/api/usage/summary"
HISTORY = [(2024, m) for m in range(9, 13)] + [(2025, 1)]  # before February and March
CENT = Decimal("0.01")

# name: limit, unit cost, February, March (None: not recorded), contract end
BOOK = {
    "Acme": (1_000_000, "0.0025", 1_000_000, 1_500_000, None),
    "Spiky": (100_000, "0.001", 50_000, 400_000, None),
    "Near": (1_000, "0.01", 900, 850, None),
    "At": (1_000, "0.01", None, 1_000, None),
    "Half": (1_000, "0.005", 1_000, 1_001, None),
    "Voided": (1_000, "0.01", 1_500, 2_000, None),
    "Quiet": (10_000, "0.01", 5_000, None, None),
    "Gone": (10_000, "0.01", None, None, date(2024, 12, 31)),
}
# Every customer's months before February: steady, so only Spiky's March stands out.
STEADY = {"Acme": 1_000_000, "Spiky": 50_000, "Near": 900, "Half": 1_000, "Voided": 1_500}


@pytest.fixture
def book(finance, sales):
    customers = {}
    for name, (limit, cost, feb, mar, end) in BOOK.items():
        customer = CustomerFactory(
            name=name, monthly_api_limit=limit, overage_unit_cost=Decimal(cost), end_date=end
        )
        customers[name] = customer
        months = [(p, STEADY.get(name)) for p in HISTORY] + [((2025, 2), feb), ((2025, 3), mar)]
        for (y, m), usage in months:
            if usage is not None:
                Usage.objects.create(customer=customer, year=y, month=m, api_usage=usage)

    def bill(name):
        return make_bill(
            customer=customers[name], finance=finance, year=YEAR, month=MONTH,
            api_usage=BOOK[name][3],
        )  # fmt: skip

    bill_approve(bill=bill("Acme"), user=sales)
    spiky = bill_approve(bill=bill("Spiky"), user=sales, comment="Checked the metering.")
    bill_send(bill=spiky, user=finance)
    bill_reject(bill=bill("Half"), user=sales, comment="Waived: one call.")
    sent = bill_send(bill=bill_approve(bill=bill("Voided"), user=sales), user=finance)
    bill_void(bill=sent, user=finance, comment="Wrong address.")
    return customers


def expected_summary() -> dict:
    """The figures of March 2025, computed from the rows in the database with plain Python."""
    customers = {c.pk: c for c in Customer.objects.all()}
    usage = {
        (u.customer_id, u.year, u.month): u.api_usage
        for u in Usage.objects.filter(year=2025, month__in=(2, 3))
    }
    march = {c: v for (c, y, m), v in usage.items() if m == 3}
    feb = {c: v for (c, y, m), v in usage.items() if m == 2}
    total, previous = sum(march.values()), sum(feb.values())
    over = [c for c, v in march.items() if v > customers[c].monthly_api_limit]
    near = [
        c
        for c, v in march.items()
        if 0 < v <= customers[c].monthly_api_limit and v * 5 >= customers[c].monthly_api_limit * 4
    ]
    covered = [
        c for c in customers.values() if c.end_date is None or c.end_date >= date(2025, 3, 1)
    ]
    overage = {
        c: ((v - customers[c].monthly_api_limit) * customers[c].overage_unit_cost).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        for c, v in march.items()
        if c in over and customers[c] in covered
    }
    bills = Bill.objects.filter(year=YEAR, month=MONTH).exclude(status=Status.VOID)
    by_status = {}
    for b in bills:
        count, amount = by_status.get(b.status, (0, Decimal("0")))
        by_status[b.status] = (count + 1, amount + b.overage_amount)
    billed = sum(b.overage_amount for b in bills)
    return {
        "total_calls": total,
        "customers_with_usage": len(march),
        "previous": {"total_calls": previous, "customers_with_usage": len(feb)},
        "change": total - previous,
        "change_percent": str(
            (Decimal(total - previous) * 100 / previous).quantize(Decimal("0.1"), ROUND_HALF_UP)
        ),
        "over": sorted(customers[c].name for c in over),
        "near": sorted(customers[c].name for c in near),
        "overage": str(sum(overage.values())),
        "overage_customers": len(overage),
        "billed": (len(bills), str(billed)),
        "by_status": {s: (n, str(a)) for s, (n, a) in by_status.items()},
        "not_billed": str(sum(overage.values()) - billed),
        "top": [customers[c].name for c, _ in sorted(march.items(), key=lambda i: -i[1])],
        "increases": [
            customers[c].name
            for c, v in sorted(march.items(), key=lambda i: -(i[1] - feb.get(i[0], 0)))
            if v - feb.get(c, 0) > 0
        ],
        "without_usage": sorted(c.name for c in covered if c.pk not in march),
    }


# --- access ------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_welcome(client):
    assert client.get(URL)["Location"] == "/welcome?next=%2Fusage"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_overview(page_as, users, role, book):
    response = page_as(users[role]).get(f"{URL}?year={YEAR}&month={MONTH}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Usage overview</h1>" in html and "March 2025" in html
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    assert '<a href="/usage" aria-current="page">Usage</a>' in nav


def test_the_usage_link_is_in_every_roles_navigation(page_as, users):
    for role in ROLES:
        html = page_as(users[role]).get("/customers").content.decode()
        assert '<a href="/usage">Usage</a>' in html, role


def test_it_refuses_post(page_as, sales):
    assert page_as(sales).post(URL).status_code == 405


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_api_access(client_for, role):
    response = client_for(role).get(API)
    assert response.status_code == (401 if role == "anonymous" else 200)


# --- the figures -------------------------------------------------------------------------------


def test_the_api_figures_match_an_independent_computation(api_as, sales, book):
    data = api_as(sales).get(API, {"year": YEAR, "month": MONTH}).json()
    want = expected_summary()
    assert (data["year"], data["month"], data["in_progress"]) == (YEAR, MONTH, False)
    assert data["currency"] == "USD"
    assert data["total_calls"] == want["total_calls"] == 1_904_851
    assert data["customers_with_usage"] == want["customers_with_usage"]
    assert {k: data["previous"][k] for k in want["previous"]} == want["previous"]
    assert (data["previous"]["year"], data["previous"]["month"]) == (2025, 2)
    assert (data["change"], data["change_percent"]) == (want["change"], want["change_percent"])
    assert data["over_limit"]["count"] == len(want["over"])
    assert sorted(c["customer_name"] for c in data["over_limit"]["customers"]) == want["over"]
    assert sorted(c["customer_name"] for c in data["near_limit"]["customers"]) == want["near"]
    assert want["near"] == ["At", "Near"]
    overage = data["overage"]
    assert (overage["amount"], overage["customers"]) == (
        want["overage"],
        want["overage_customers"],
    )
    assert overage["amount"] == "1560.01"  # 1,250.00 + 300.00 + 0.01 (half a cent, up) + 10.00
    assert (overage["billed"]["count"], overage["billed"]["amount"]) == want["billed"]
    assert overage["billed"]["amount"] == "1550.01"  # the void bill is not billed
    by_status = {s["status"]: (s["count"], s["amount"]) for s in overage["billed"]["by_status"]}
    for status, figures in want["by_status"].items():
        assert by_status[status] == figures
    assert by_status["void"] == (0, "0.00")
    assert overage["not_billed"] == want["not_billed"] == "10.00"
    assert [c["customer_name"] for c in data["top_consumers"]] == want["top"]
    assert data["top_consumers"][0] == {
        "customer_id": book["Acme"].pk,
        "customer_name": "Acme",
        "api_usage": 1_500_000,
        "monthly_api_limit": 1_000_000,
        "percent_of_limit": 150,
        "level": "over",
    }
    assert [c["customer_name"] for c in data["largest_increases"]] == want["increases"]
    assert data["without_usage"] == {
        "count": len(want["without_usage"]),
        "customers": [{"customer_id": book["Quiet"].pk, "customer_name": "Quiet"}],
    }
    assert data["projection"] is None
    suspicious = data["suspicious"]
    assert suspicious["judged"] is True and suspicious["count"] == 1
    assert suspicious["customers"][0]["customer_name"] == "Spiky"
    assert suspicious["customers"][0]["reason"] == "8x the 6-month median of 50,000"
    assert suspicious["not_enough_history"] == 1  # At: nothing recorded before March


def test_the_page_shows_the_figures_with_labels_and_currency(page_as, finance, book):
    html = page_as(finance).get(f"{URL}?year={YEAR}&month={MONTH}").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    want = expected_summary()
    assert f"API calls {want['total_calls']:,}" in text
    assert "Over the limit 4 customers above 100% of their limit" in text
    assert "Near the limit 2 customers at 80% to 100%, not over" in text
    # (\s+ above also folds the no-break space between a currency and its amount.)
    assert "Overage at current terms USD 1,560.01" in text
    assert "Billed USD 1,550.01 3 bills; not billed yet USD 10.00" in text
    assert "Approved 1 bill USD 1,250.00" in text and "Sent 1 bill USD 300.00" in text
    assert "Rejected 1 bill USD 0.01" in text
    billing = html.split('id="billing-title"')[1].split("</section>")[0]
    assert "badge-void" not in billing and "Draft" not in billing  # only statuses it has
    assert "USD\xa01,560.01" in html
    assert "Spiky : 400,000 calls, 8x the 6-month median of 50,000" in text
    assert "1 customer with usage not judged: not enough history" in text
    assert f'href="/customers/{book["Acme"].pk}"' in html
    assert re.search(r'class="level level-near"[^>]*>at limit<', html)
    assert "Quiet" in text.split("Under contract, no usage recorded")[1]
    assert "Gone" not in text
    assert 'href="/dashboard?period=2025-03"' in html


def test_htmx_gets_the_overview_body_alone(page_as, sales, book):
    response = page_as(sales).get(f"{URL}?year={YEAR}&month={MONTH}", **htmx("overview"))
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="overview"') and "<html" not in html
    assert "March 2025" in html


# --- the month picker --------------------------------------------------------------------------


def test_it_opens_on_the_current_month_with_a_link_to_the_one_before(page_as, sales):
    today = periods.today()
    html = page_as(sales).get(URL).content.decode()
    py, pm = periods.previous_month(today.year, today.month)
    assert f'{periods.label(today.year, today.month)} <span class="chip">in progress</span>' in html
    assert f'rel="prev" href="/usage?year={py}&amp;month={pm}"' in html
    assert 'rel="next"' not in html and "latest month" in html
    assert f'<option value="{today.month}" selected>' in html


def test_a_past_month_links_both_ways(page_as, sales):
    html = page_as(sales).get(f"{URL}?year=2025&month=1").content.decode()
    assert 'rel="prev" href="/usage?year=2024&amp;month=12"' in html
    assert 'rel="next" href="/usage?year=2025&amp;month=2"' in html
    assert '<option value="1" selected>January</option>' in html and 'value="2025"' in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("year=2025.0&month=3", "year", "“2025.0” is not a whole number: type digits only."),
        ("year=2025&month=13", "month", "Enter a month from 1 to 12."),
        ("year=1999&month=3", "year", "Enter a year between 2000 and 2999."),
        ("year=2025", "month", "Give the month too: a month is a year and a month."),
        ("month=3", "year", "Give the year too: a month is a year and a month."),
        ("year=&month=3", "year", "Enter a whole number: the value is empty."),
        ("year=2999&month=1", "month", "January 2999 has not started yet"),
    ],
)
def test_a_bad_month_is_said_on_its_field_and_the_current_month_shown(
    page_as, sales, api_as, query, field, message
):
    response = page_as(sales).get(f"{URL}?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert message.replace("“", "&ldquo;") in html or message in html
    assert f'id="id_{field}_error"' in html
    today = periods.today()
    assert (
        f'<h2 class="month-title" id="month-title">{periods.label(today.year, today.month)}' in html
    )
    # The API names the same parameter with the same message.
    answer = api_as(sales).get(f"{API}?{query}")
    assert answer.status_code == 400
    assert list(answer.json()) == [field] and answer.json()[field][0].startswith(message)


def test_unknown_parameters_are_ignored(api_as, sales):
    assert api_as(sales).get(f"{API}?page=2&sort=x").status_code == 200


# --- the month in progress ---------------------------------------------------------------------


def test_the_projection_of_the_month_in_progress_on_a_fixed_day(
    api_as, page_as, sales, book, monkeypatch
):
    monkeypatch.setattr(periods, "today", lambda: date(2025, 3, 10))
    data = api_as(sales).get(API).json()
    assert (data["year"], data["month"], data["in_progress"]) == (2025, 3, True)
    march = {
        u.customer.name: (u.api_usage, u.customer.monthly_api_limit)
        for u in Usage.objects.filter(year=2025, month=3).select_related("customer")
    }
    total = sum(u for u, _ in march.values())
    projection = data["projection"]
    assert (projection["days_elapsed"], projection["days_in_month"]) == (10, 31)
    assert (
        projection["projected_total"]
        == int((Decimal(total) * 31 / 10).quantize(Decimal(1), ROUND_HALF_UP))
        == 5_905_038
    )  # 1,904,851 x 3.1 = 5,905,038.1
    on_track = sorted(n for n, (u, limit) in march.items() if u <= limit and u * 31 > limit * 10)
    got = projection["on_track_to_pass"]
    assert sorted(c["customer_name"] for c in got["customers"]) == on_track == ["At", "Near"]
    near = next(c for c in got["customers"] if c["customer_name"] == "Near")
    assert (near["projected_usage"], near["projected_percent_of_limit"]) == (2_635, 264)
    assert data["suspicious"] == {
        "judged": False, "count": 0, "not_enough_history": 0, "customers": []
    }  # fmt: skip
    html = page_as(sales).get(URL).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Projected by month end 5,905,038 at the run rate of 10 of 31 days" in text
    assert "Usage so far ÷ 10 days elapsed × 31 days" in text
    assert "March 2025 is in progress: its usage is judged" in text


# --- a fixed number of queries -----------------------------------------------------------------


def _customers_with_bills(n: int, finance) -> None:
    customers = Customer.objects.bulk_create(
        [CustomerFactory.build(name=f"Bulk {i:03d}", monthly_api_limit=1_000) for i in range(n)]
    )
    rows = [
        Usage(customer=c, year=y, month=m, api_usage=usage)
        for i, c in enumerate(customers)
        for (y, m), usage in [
            *((p, 1_000) for p in HISTORY), ((2025, 2), 900 + i), ((2025, 3), 500 + 50 * i)
        ]
    ]  # fmt: skip
    today = periods.today()
    rows += [
        Usage(customer=c, year=today.year, month=today.month, api_usage=900) for c in customers
    ]
    Usage.objects.bulk_create(rows)
    bill_generate(year=YEAR, month=MONTH, user=finance)


@pytest.mark.parametrize("n", [5, 50])
def test_the_page_and_the_api_take_a_fixed_number_of_queries(
    n, finance, page_as, api_as, django_assert_num_queries
):
    _customers_with_bills(n, finance)
    page, api = page_as(finance), api_as(finance)
    figures = 8 + JUDGING  # the month's figures; judging its months: 2 on PostgreSQL
    with django_assert_num_queries(2 + figures):  # the session and its user first
        assert page.get(f"{URL}?year={YEAR}&month={MONTH}").status_code == 200
    with django_assert_num_queries(2 + 9):  # the month in progress: a projection, no judging
        assert page.get(URL).status_code == 200
    with django_assert_num_queries(1 + figures):  # the bearer token's user first
        assert api.get(API, {"year": YEAR, "month": MONTH}).status_code == 200
    with django_assert_num_queries(1 + 9):
        assert api.get(API).status_code == 200


# --- the OpenAPI document ----------------------------------------------------------------------


def test_the_schema_documents_the_summary(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/usage/summary"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["year"]["schema"] == {"type": "integer", "minimum": 2000, "maximum": 2999}
    assert params["month"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 12}
    assert {"200", "400", "401"} <= set(operation["responses"])
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    summary = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert list(summary["properties"]) == [
        "year",
        "month",
        "in_progress",
        "currency",
        "total_calls",
        "customers_with_usage",
        "previous",
        "change",
        "change_percent",
        "over_limit",
        "near_limit",
        "overage",
        "top_consumers",
        "largest_increases",
        "without_usage",
        "projection",
        "suspicious",
    ]
    assert summary["properties"]["total_calls"]["format"] == "int64"
    overage = schema["components"]["schemas"]["Overage"]["properties"]
    assert overage["amount"]["type"] == "string" and overage["amount"]["format"] == "decimal"
