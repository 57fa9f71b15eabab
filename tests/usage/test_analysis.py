"""usage.analysis: each figure of a month against a computation of its own, made here in plain
Python from the rows the test wrote; the run-rate projection on fixed dates; and the
suspicious-usage rule on hand-made histories, written as a table."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from billing_site.core import periods
from tests.factories import CustomerFactory
from usage import analysis
from usage.levels import RunRate, run_rate, usage_level
from usage.models import Usage

pytestmark = pytest.mark.django_db

# Judging a whole month: PostgreSQL answers the flagged rows and the count not judged, SQLite
# reads the month's window and judges it in Python: one query on either.
JUDGING = 1  # the medians and the count not judged, one query (usage.anomalies)

YEAR, MONTH = 2025, 3  # an ended month; the month before is February 2025
PREV = (2025, 2)
CENT = Decimal("0.01")


# --- a book of customers, as data ------------------------------------------------------------


@dataclass
class Row:
    name: str
    limit: int
    cost: str
    usage: int | None  # March 2025; None: not recorded
    previous: int | None = None  # February 2025
    start: date = date(2020, 1, 1)
    end: date | None = None


BOOK = [
    # name, limit, unit cost, March, February, contract
    Row("Alpha", 1_000, "0.005", 1_001, 900),  # 1 call over at half a cent: 0.005 -> 0.01
    Row("Bravo", 1_000, "0.005", 1_001, None),  # the same: per-customer rounding gives 0.02
    Row("Charlie", 1_000_000, "0.0025", 1_500_000, 1_200_000),  # 1,250.00
    Row("Delta", 1_000, "0.002500", 1_000, 1_000),  # exactly at the limit: no overage
    Row("Echo", 1_000, "0.01", 999, 10),  # near
    Row("Foxtrot", 1_000, "0.01", 800, 900),  # near: exactly 80%
    Row("Golf", 1_000, "0.01", 799, 500),  # not near: 79.9%
    Row("Hotel", 0, "0.10", 5, None),  # a limit of 0: any usage is over
    Row("India", 0, "0.10", 0, 0),  # nothing used, nothing over
    Row("Juliet", 1, "12.345678", 9_000_000_000_001, 8_000_000_000_000),  # 64-bit, exact
    Row("Kilo", 1_000, "0.01", 3_000, 100, end=date(2025, 2, 28)),  # over, contract ended
    Row("Lima", 1_000, "0.01", None, 700),  # under contract, no March usage
    Row("Mike", 1_000, "0.01", None, None, start=date(2025, 4, 1)),  # contract starts later
    Row("November", 2_000, "0.0001", 2_300, 2_300),  # over, no growth
    Row("Oscar", 5_000, "0.003", 4_200, 4_000),
    Row("Papa", 5_000, "0.003", 4_200, None),  # tie with Oscar on calls: name decides
    Row("Quebec", 1_000, "0.01", None, None, end=date(2025, 3, 1)),  # covers March 1st only
]


@pytest.fixture
def book():
    customers = {}
    for row in BOOK:
        customer = CustomerFactory(
            name=row.name,
            monthly_api_limit=row.limit,
            overage_unit_cost=Decimal(row.cost),
            start_date=row.start,
            end_date=row.end,
        )
        customers[row.name] = customer
        for (year, month), usage in (((YEAR, MONTH), row.usage), (PREV, row.previous)):
            if usage is not None:
                Usage.objects.create(customer=customer, year=year, month=month, api_usage=usage)
    return customers


def covers(row: Row) -> bool:
    return row.start <= date(YEAR, MONTH, 31) and (row.end is None or row.end >= date(2025, 3, 1))


def expected_level(usage: int | None, limit: int) -> str:
    usage = usage or 0
    if usage > limit:
        return "over"
    if usage > 0 and usage == limit:
        return "at"
    if usage > 0 and Decimal(usage) / Decimal(limit) >= Decimal("0.8"):
        return "near"
    return ""


def test_the_months_totals_and_limits(book):
    recorded = [r for r in BOOK if r.usage is not None]
    totals = analysis.usage_month_totals(year=YEAR, month=MONTH)
    assert totals.total == sum(r.usage for r in recorded)
    assert totals.customers == len(recorded)
    assert totals.previous_total == sum(r.previous for r in BOOK if r.previous is not None)
    assert totals.previous_customers == sum(1 for r in BOOK if r.previous is not None)
    levels = [expected_level(r.usage, r.limit) for r in recorded]
    assert totals.over == levels.count("over") == 7
    assert totals.near == levels.count("near") + levels.count("at") == 5


def test_the_over_and_near_lists_go_fullest_first(book):
    def fullest(rows):
        # A limit of 0 is the fullest of all; then usage / limit, then the name.
        return [
            r.name
            for r in sorted(
                rows, key=lambda r: (r.limit != 0, -Decimal(r.usage) / (r.limit or 1), r.name)
            )
        ]

    recorded = [r for r in BOOK if r.usage is not None]
    over = [r for r in recorded if expected_level(r.usage, r.limit) == "over"]
    near = [r for r in recorded if expected_level(r.usage, r.limit) in ("near", "at")]
    got_over = analysis.usage_limit_list(year=YEAR, month=MONTH, levels=("over",))
    got_near = analysis.usage_limit_list(year=YEAR, month=MONTH, levels=("near", "at"))
    assert [c.customer_name for c in got_over] == fullest(over)
    assert [c.customer_name for c in got_near] == fullest(near)
    assert fullest(near) == ["Delta", "Echo", "Oscar", "Papa", "Foxtrot"]
    assert [c.level for c in got_near] == ["at", "near", "near", "near", "near"]


def test_the_overage_at_current_terms_is_rounded_per_customer_then_added(book):
    amounts = [
        ((r.usage - r.limit) * Decimal(r.cost)).quantize(CENT, rounding=ROUND_HALF_UP)
        for r in BOOK
        if r.usage is not None and r.usage > r.limit and covers(r)
    ]
    customers, amount = analysis.usage_month_overage(year=YEAR, month=MONTH)
    assert customers == len(amounts) == 6  # Kilo's contract ended in February
    assert amount == sum(amounts)
    # Written out, so a rounding rule that drifted with the code would still be caught:
    # 0.01 + 0.01 + 1,250.00 + 0.50 + 111,111,102,000,000.00 + 0.03
    assert amount == Decimal("111111102001250.55")


def test_the_top_consumers_are_the_ten_largest(book):
    recorded = [r for r in BOOK if r.usage is not None]
    expected = sorted(recorded, key=lambda r: (-r.usage, r.name))[:10]
    top = analysis.usage_top(year=YEAR, month=MONTH)
    assert [(c.customer_name, c.api_usage) for c in top] == [(r.name, r.usage) for r in expected]
    oscar, papa = (next(c for c in top if c.customer_name == n) for n in ("Oscar", "Papa"))
    assert top.index(oscar) + 1 == top.index(papa)  # a tie on calls goes by name
    assert [c.percent for c in top] == [
        int((Decimal(r.usage * 100) / r.limit).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        for r in expected
    ]


def test_growth_lists_the_largest_increases(book):
    increases = sorted(
        (
            (r.usage - (r.previous or 0), r.name, r.previous)
            for r in BOOK
            if r.usage is not None and r.usage - (r.previous or 0) > 0
        ),
        key=lambda item: (-item[0], item[1]),
    )[:5]
    got = analysis.usage_increases(year=YEAR, month=MONTH)
    assert [(c.increase, c.customer_name, c.previous_usage) for c in got] == increases
    assert [c.customer_name for c in got] == ["Juliet", "Charlie", "Papa", "Kilo", "Bravo"]


def test_growth_lists_increases_only(db):
    for name, before, now in (
        ("Up", 100, 150),
        ("Down", 500, 100),
        ("Flat", 70, 70),
        ("New", None, 5),
    ):
        customer = CustomerFactory(name=name)
        if before is not None:
            Usage.objects.create(customer=customer, year=2025, month=2, api_usage=before)
        Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=now)
    got = analysis.usage_increases(year=YEAR, month=MONTH)
    assert [(c.customer_name, c.previous_usage, c.increase) for c in got] == [
        ("Up", 100, 50),
        ("New", None, 5),
    ]


def test_customers_under_contract_without_usage(book):
    expected = sorted(r.name for r in BOOK if r.usage is None and covers(r))
    count, shown = analysis.customers_without_usage(year=YEAR, month=MONTH)
    assert [c.name for c in shown] == expected == ["Lima", "Quebec"]
    assert count == 2


def test_a_month_without_usage_has_zero_figures(db):
    totals = analysis.usage_month_totals(year=YEAR, month=MONTH)
    assert (totals.total, totals.customers, totals.over, totals.near) == (0, 0, 0, 0)
    assert totals.change_percent is None
    assert analysis.usage_month_overage(year=YEAR, month=MONTH) == (0, Decimal("0"))
    assert analysis.usage_top(year=YEAR, month=MONTH) == []
    assert analysis.customers_without_usage(year=2019, month=1) == (0, [])


# --- levels: the 80% and 100% boundaries, exactly ---------------------------------------------


@pytest.mark.parametrize(
    ("usage", "limit", "level"),
    [
        (None, 1_000, ""),
        (0, 1_000, ""),
        (799, 1_000, ""),
        (800, 1_000, "near"),
        (999, 1_000, "near"),
        (1_000, 1_000, "at"),
        (1_001, 1_000, "over"),
        (799_999, 1_000_000, ""),  # reads "80%" rounded, but is below it
        (999_999, 1_000_000, "near"),  # reads "100%", but is not at the limit
        (1_000_001, 1_000_000, "over"),  # reads "100%", and is over
        (0, 0, ""),
        (1, 0, "over"),
        (4, 5, "near"),
        (3, 5, ""),
    ],
)
def test_usage_level(usage, limit, level):
    assert usage_level(usage, limit) == level


# --- the projection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "elapsed", "days"),
    [
        (date(2025, 3, 1), 1, 31),  # the current day counts as elapsed
        (date(2025, 3, 10), 10, 31),
        (date(2025, 3, 31), 31, 31),
        (date(2024, 2, 29), 29, 29),  # leap year
        (date(2025, 2, 14), 14, 28),
    ],
)
def test_the_run_rate_counts_days_elapsed_today_included(today, elapsed, days):
    rate = run_rate(year=today.year, month=today.month, today=today)
    assert (rate.days_elapsed, rate.days_in_month) == (elapsed, days)


def test_only_the_month_in_progress_has_a_run_rate():
    assert run_rate(year=2025, month=2, today=date(2025, 3, 10)) is None
    assert run_rate(year=2025, month=4, today=date(2025, 3, 10)) is None


@pytest.mark.parametrize(
    ("usage", "elapsed", "days", "projected"),
    [
        (1_000, 10, 31, 3_100),
        (1_001, 10, 31, 3_103),  # 3,103.1 -> 3,103
        (1_005, 10, 31, 3_116),  # 3,115.5 -> 3,116: half-up
        (1, 2, 31, 16),  # 15.5 -> 16
        (0, 5, 30, 0),
        (None, 5, 30, 0),
        (700, 31, 31, 700),  # the last day: the projection is the usage
        (9_000_000_000_000_000_000, 1, 28, 252_000_000_000_000_000_000),  # no overflow
    ],
)
def test_the_projection_is_usage_over_days_elapsed_times_days(usage, elapsed, days, projected):
    assert RunRate(2025, 3, elapsed, days).project(usage) == projected


def test_the_day_count_follows_settings_time_zone(settings, monkeypatch):
    # 31 March, 12:00 UTC is already 1 April in Auckland.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 3, 31, 12, tzinfo=UTC))
    settings.TIME_ZONE = "Pacific/Auckland"
    assert run_rate(year=2025, month=4) == RunRate(2025, 4, 1, 30)
    assert run_rate(year=2025, month=3) is None
    settings.TIME_ZONE = "UTC"
    assert run_rate(year=2025, month=3) == RunRate(2025, 3, 31, 31)


def test_on_track_to_pass_compares_the_projection_with_the_limit_exactly(db):
    rate = RunRate(YEAR, MONTH, 10, 31)  # 10 March: a projection is usage x 3.1
    rows = [
        # name, limit, usage so far, on track?
        ("Exactly at the limit by month end", 3_100, 1_000, False),  # 3,100 == 3,100
        ("One call more", 3_100, 1_001, True),  # 3,103.1 > 3,100
        ("Already over", 1_000, 1_001, False),  # over already: listed as over, not here
        ("At the limit now", 1_000, 1_000, True),
        ("Far below", 1_000_000, 10, False),
        ("Nothing yet", 1_000, 0, False),
    ]
    for name, limit, usage, _ in rows:
        customer = CustomerFactory(name=name, monthly_api_limit=limit)
        Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=usage)
    count, shown = analysis.usage_on_track_to_pass(rate=rate)
    expected = [
        (n, int((Decimal(u) * 31 / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        for n, _, u, on in rows
        if on
    ]
    assert count == 2
    assert sorted((c.customer_name, c.projected_usage) for c in shown) == sorted(expected)
    assert [c.customer_name for c in shown] == ["At the limit now", "One call more"]


# --- the suspicious-usage rule, as a table ---------------------------------------------------

# history: the 6 months before March 2025, Sep 2024 .. Feb 2025 (_: nothing recorded); usage:
# March 2025 (None: not recorded). The reason is written out: "" judged and not flagged, None
# not judged. OLDER: months recorded before the window (Mar .. Aug 2024), which must not count
# (with a 7th month, 1,000, the median of "the window is 6 months" would be 250: 2.8x).
_ = None
M100, M300 = [100] * 6, [300] * 6


def x(ratio: str, median: str) -> str:
    return f"{ratio}x the 6-month median of {median}"


# fmt: off
CASES = [
    # name                          history                      usage      reason
    ("spike",                       M100,                        420,       x("4.2", "100")),
    ("just over 3x",                M100,                        301,       x("3.01", "100")),
    ("exactly 3x",                  M100,                        300,       ""),
    ("within",                      M100,                        150,       ""),
    ("drop",                        M100,                        33,        x("0.33", "100")),
    ("exactly a third",             M300,                        100,       ""),
    ("just under a third",          M300,                        99,        x("0.33", "300")),
    ("sudden zero",                 [_, _, _, 5, 7, 6],          0,         "sudden zero: 0 calls against the 6-month median of 6"),  # noqa: E501
    ("zero after zeros",            [0] * 6,                     0,         ""),
    ("usage after zeros",           [0, 0, 0, 0, 0, 9],          1,         "1 call against the 6-month median of 0"),  # noqa: E501
    ("even count: middle two",      [_, _, 100, 200, 300, 400],  751,       x("3.004", "250")),
    ("median shown half-up",        [_, _, 1, 2, 3, 4],          8,         x("3.2", "3")),
    ("gaps are not zeros",          [_, _, _, 100, 100, 100],    301,       x("3.01", "100")),
    ("the window is 6 months",      [_, _, _, 100, 200, 300],    700,       x("3.5", "200")),
    ("a big customer",              [1_234_000] * 6,             5_182_800, x("4.2", "1,234,000")),
    ("exactly the minimum history", [_, _, _, 10, 10, 10],       31,        x("3.1", "10")),
    ("not enough history",          [_, _, _, _, 10, 10],        1_000,     None),
    ("new customer",                [_] * 6,                     5_000,     None),
    ("old history only",            [_] * 6,                     5_000,     None),
    ("no usage recorded",           M100,                        None,      None),
]
# fmt: on
OLDER = {"the window is 6 months": [1_000] * 6, "old history only": [10] * 6}


def _window():
    months, period = [], (YEAR, MONTH)
    for _ in range(12):
        period = periods.previous_month(*period)
        months.append(period)
    months.reverse()
    return months[:6], months[6:]  # older (Mar-Aug 2024), window (Sep 2024-Feb 2025)


@pytest.fixture
def histories():
    older_months, window = _window()
    ids = {}
    for name, history, usage, _ in CASES:
        customer = CustomerFactory(name=name)
        ids[name] = customer.pk
        older = OLDER.get(name, [])
        rows = [*zip(older_months, older, strict=False), *zip(window, history, strict=True)]
        rows.append(((YEAR, MONTH), usage))
        Usage.objects.bulk_create(
            Usage(customer=customer, year=y, month=m, api_usage=u)
            for (y, m), u in rows
            if u is not None
        )
    return ids


def test_the_rule_on_hand_made_histories(histories, django_assert_num_queries):
    keys = [(histories[name], YEAR, MONTH) for name, *_ in CASES]
    with django_assert_num_queries(1):
        judged = analysis.usage_judgements(keys=keys)
    got = {name: judged[(histories[name], YEAR, MONTH)] for name, *_ in CASES}
    flags = analysis.usage_anomalies(keys=keys)
    for name, _, _, reason in CASES:
        j = got[name]
        if reason is None:  # not judged
            assert not j.judged and not j.flagged, name
            assert (histories[name], YEAR, MONTH) not in flags, name
        else:
            assert (j.judged, j.flagged, j.reason) == (True, bool(reason), reason), name
            assert flags.get((histories[name], YEAR, MONTH), "") == reason, name
    assert got["not enough history"].reason == (
        "not enough history: 2 of the 6 months before recorded, 3 needed"
    )
    assert got["new customer"].lacks_history and got["old history only"].lacks_history
    assert got["no usage recorded"].reason == "no usage recorded"


def test_the_month_overview_flags_the_same_months_as_the_keys(histories):
    expected = {name: reason for name, _, _, reason in CASES if reason}
    month = analysis.usage_anomalies_of_month(year=YEAR, month=MONTH)
    assert {c.customer_name: c.reason for c in month.flagged} == expected
    assert month.count == len(expected)
    # Customers with March usage but fewer than 3 recorded months in the window before.
    assert month.not_judged == 3
    # Furthest from the median first: the zeros (on either side), then 4.2x, ...
    assert [c.customer_name for c in month.flagged[:2]] == ["sudden zero", "usage after zeros"]


# A month's usage against a median of 100 (three months of 100 before) -> where the overview
# lists it: furthest from the median first, either way (a zero is furthest), then by name.
ORDERED = [
    ("Zero A", 0),  # sudden zero: infinitely far
    ("Zero B", 0),
    ("Down C", 10),  # 10x below
    ("Up D", 1_000),  # 10x above: the same distance, so by name after "Down C"
    ("Up E", 500),  # 5x
    ("Down F", 25),  # 4x below
    ("Up G", 350),  # 3.5x
    ("Up H", 301),  # 3.01x
]
WITHIN = [("Within I", 300), ("Within J", 34)]  # exactly 3x, and 100/34 < 3: not flagged


# (usage, median, recorded months before) -> flagged, at the default thresholds (3x, 1/3, 3).
FLAGGED = [
    (0, Fraction(100), 3, True),  # a sudden zero
    (0, Fraction(0), 3, False),  # zero after zeros
    (1, Fraction(0), 3, True),  # calls after zeros
    (300, Fraction(100), 3, False),  # exactly 3x
    (301, Fraction(100), 3, True),
    (34, Fraction(100), 6, False),  # above a third
    (33, Fraction(100), 6, True),
    (200, Fraction(133, 2), 4, True),  # 200 > 3 x 66.5: an even count's median, exactly
    (199, Fraction(133, 2), 4, False),
    (5_000, Fraction(100), 2, False),  # not enough history
    (5_000, None, 0, False),
]


@pytest.mark.parametrize(("usage", "median", "recorded", "flagged"), FLAGGED)
def test_is_flagged_answers_as_judge_flags(usage, median, recorded, flagged):
    from usage.anomalies import is_flagged, judge

    assert is_flagged(usage=usage, median=median, recorded=recorded) is flagged
    assert judge(usage=usage, median=median, recorded=recorded).flagged is flagged


@pytest.mark.parametrize("shown", [3, 5, 8, 25])
def test_the_overview_shows_the_first_of_the_flagged_months_in_order(monkeypatch, shown):
    # More flagged months than the overview shows: the shown ones must be the first of the
    # whole ordered list (the overview picks them without sorting every flagged month).
    _, window = _window()
    rows = ORDERED + WITHIN
    for name, usage in reversed(rows):  # made in reverse: the ids do not give the order
        customer = CustomerFactory(name=name)
        for y, m in window[-3:]:
            Usage.objects.create(customer=customer, year=y, month=m, api_usage=100)
        Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=usage)
    monkeypatch.setattr(analysis, "SHOWN", shown)
    month = analysis.usage_anomalies_of_month(year=YEAR, month=MONTH)
    assert [c.customer_name for c in month.flagged] == [n for n, _ in ORDERED][:shown]
    assert month.count == len(ORDERED)
    reasons = {c.customer_name: c.reason for c in month.flagged}
    assert reasons["Zero A"] == "sudden zero: 0 calls against the 6-month median of 100"
    if shown >= 8:
        assert reasons["Up H"] == "3.01x the 6-month median of 100"
        assert reasons["Down C"] == "0.1x the 6-month median of 100"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite judges every row in Python")
def test_postgresql_returns_only_the_flagged_rows(histories):
    # The database compares against the thresholds itself: no row the rule does not flag comes
    # back (usage_anomalies_of_month re-judges the rows, so this checks the SQL on its own).
    from usage.anomalies import month_medians

    rows, not_judged = month_medians(year=YEAR, month=MONTH)
    assert sorted(r.name for r in rows) == sorted(n for n, _, _, reason in CASES if reason)
    assert not_judged == 3


# History -> its median, by hand: odd counts take the middle value, even ones the mean of the
# two middle values (sorted: the months are recorded out of order).
MEDIANS = [
    ([700], 700),
    ([9, 1], 5),
    ([5, 1, 3], 3),
    ([8, 2, 6, 4], 5),
    ([50, 10, 40, 20, 30], 30),
    ([60, 10, 50, 20, 40, 31], Fraction(71, 2)),
    ([7, 7, 1, 7, 7, 1], 7),
]


def test_the_databases_median_of_every_history_length(settings):
    # Every count of months the window can hold, odd and even, through the month's query
    # (on PostgreSQL two PERCENTILE_DISC over one sort: the upper middle's fraction must land
    # on the right row for each count). A usage far above any median flags every customer.
    settings.USAGE_ANOMALY_MIN_HISTORY = 1
    _, window = _window()
    customers = {}
    for history, median in MEDIANS:
        customer = CustomerFactory(name=f"history of {len(history)}")
        for (y, m), calls in zip(window[-len(history) :], history, strict=True):
            Usage.objects.create(customer=customer, year=y, month=m, api_usage=calls)
        Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=10**9)
        customers[customer.pk] = (history, median)
    from usage.anomalies import month_medians

    rows, not_judged = month_medians(year=YEAR, month=MONTH)
    got = {r.customer_id: (r.median, r.recorded, r.name) for r in rows}
    assert not_judged == 0
    assert got == {
        pk: (Fraction(median), len(history), f"history of {len(history)}")
        for pk, (history, median) in customers.items()
    }


@pytest.mark.parametrize("window", [1, 2, 3, 6, 12, 24, 120])
def test_the_upper_middle_fraction_lands_on_the_upper_middle(window):
    # PERCENTILE_DISC(p) is the value at position ceil(p x n), 1-based, ascending (PostgreSQL's
    # documentation); the upper middle of n values is at n // 2 + 1 (odd n: the middle).
    import math

    from usage.anomalies import upper_middle_fraction

    p = upper_middle_fraction(window)
    assert [math.ceil(p * n) for n in range(1, window + 1)] == [
        n // 2 + 1 for n in range(1, window + 1)
    ]


def test_the_thresholds_are_settings(histories, settings):
    settings.USAGE_ANOMALY_HIGH = "4"
    settings.USAGE_ANOMALY_LOW = "0.5"
    settings.USAGE_ANOMALY_WINDOW = 3
    settings.USAGE_ANOMALY_MIN_HISTORY = 2
    keys = {name: (histories[name], YEAR, MONTH) for name, *_ in CASES}
    flags = analysis.usage_anomalies(keys=keys.values())
    assert flags[keys["spike"]] == "4.2x the 3-month median of 100"
    assert keys["just over 3x"] not in flags
    assert keys["within"] not in flags  # 1.5x: within 0.5x-4x
    assert flags[keys["not enough history"]] == "100x the 3-month median of 10"
    month = analysis.usage_anomalies_of_month(year=YEAR, month=MONTH)
    assert {c.customer_id for c in month.flagged} == {key[0] for key in flags}


def test_each_key_has_its_own_window_when_keys_share_rows(db):
    # Consecutive months of one customer (as on its page) fetch overlapping rows: August's
    # window reaches back to February, which September's (March to August) must not use.
    customer = CustomerFactory()
    usage = {2: 10_000, 3: 100, 4: 100, 5: 100, 6: 200, 7: 200, 8: 200, 9: 500}
    for month, calls in usage.items():
        Usage.objects.create(customer=customer, year=2024, month=month, api_usage=calls)
    flags = analysis.usage_anomalies(keys=[(customer.pk, 2024, 8), (customer.pk, 2024, 9)])
    # September: 500 against the median of 100, 100, 100, 200, 200, 200 = 150 (with February
    # too it would be 200: 2.5x, not flagged). August: 200 against 150, within.
    assert flags == {(customer.pk, 2024, 9): "3.33x the 6-month median of 150"}


def test_a_month_in_progress_is_not_judged(db):
    customer = CustomerFactory()
    for month in range(1, 7):
        Usage.objects.create(customer=customer, year=2025, month=month, api_usage=100)
    Usage.objects.create(customer=customer, year=2025, month=7, api_usage=10_000)
    today = date(2025, 7, 20)
    j = analysis.usage_judgements(keys=[(customer.pk, 2025, 7)], today=today)
    assert j[(customer.pk, 2025, 7)].reason == "month in progress: judged once it has ended"
    month = analysis.usage_anomalies_of_month(year=2025, month=7, today=today)
    assert month.in_progress and month.flagged == []
    after = analysis.usage_anomalies(keys=[(customer.pk, 2025, 7)], today=date(2025, 8, 1))
    assert after == {(customer.pk, 2025, 7): "100x the 6-month median of 100"}


def test_keys_over_many_months_and_customers_take_one_query(db, django_assert_num_queries):
    customers = [CustomerFactory() for _ in range(3)]
    keys = []
    for i, customer in enumerate(customers):
        for month in range(1, 13):
            Usage.objects.create(customer=customer, year=2023, month=month, api_usage=100)
        for month in range(1, 13):
            Usage.objects.create(
                customer=customer, year=2024, month=month, api_usage=100 * (month + i)
            )
            keys.append((customer.pk, 2024, month))
    with django_assert_num_queries(1):
        flags = analysis.usage_anomalies(keys=keys)
    assert analysis.usage_anomalies(keys=[]) == {}
    # 30 distinct months (> 24): one range instead of a condition per month; same answers.
    more = [(customers[0].pk, 2023 - y, m) for y in range(3) for m in range(1, 13)][:30]
    with django_assert_num_queries(1):
        analysis.usage_anomalies(keys=[*keys, *more])
    assert analysis.usage_anomalies(keys=keys) == flags


@pytest.mark.parametrize("customers", [5, 50])
def test_the_month_selectors_take_a_fixed_number_of_queries(
    customers, finance, django_assert_num_queries
):
    rows = []
    for i in range(customers):
        customer = CustomerFactory(monthly_api_limit=1_000)
        for month in range(1, 4):
            rows.append(Usage(customer=customer, year=2025, month=month, api_usage=900 + i * 50))
    Usage.objects.bulk_create(rows)
    rate = RunRate(2025, 3, 10, 31)
    with django_assert_num_queries(7 + JUDGING):
        analysis.usage_month_totals(year=2025, month=3)
        analysis.usage_month_overage(year=2025, month=3)
        analysis.usage_limit_list(year=2025, month=3, levels=("over",))
        analysis.usage_top(year=2025, month=3)
        analysis.usage_increases(year=2025, month=3)
        analysis.customers_without_usage(year=2025, month=3)
        analysis.usage_on_track_to_pass(rate=rate)
        analysis.usage_anomalies_of_month(year=2025, month=3)


# --- the thresholds come from the environment --------------------------------------------------


def test_the_ratios_are_read_exactly_from_the_environment(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from billing_site import settings as conf

    monkeypatch.delenv("USAGE_ANOMALY_LOW", raising=False)
    assert conf._env_ratio("USAGE_ANOMALY_LOW", "1/3") == Fraction(1, 3)
    for text, ratio in (("0.333333", Fraction(333_333, 1_000_000)), (" 1/4 ", Fraction(1, 4))):
        monkeypatch.setenv("USAGE_ANOMALY_LOW", text)
        assert conf._env_ratio("USAGE_ANOMALY_LOW", "1/3") == ratio
    for bad in ("a third", "1/0", "nan"):
        monkeypatch.setenv("USAGE_ANOMALY_LOW", bad)
        with pytest.raises(ImproperlyConfigured, match="USAGE_ANOMALY_LOW must be a ratio"):
            conf._env_ratio("USAGE_ANOMALY_LOW", "1/3")
    monkeypatch.setenv("USAGE_ANOMALY_WINDOW", "12")
    assert conf._env_count("USAGE_ANOMALY_WINDOW", 6, 1, 36) == 12
    for bad in ("0", "37", "6.0", "-1", "six"):
        monkeypatch.setenv("USAGE_ANOMALY_WINDOW", bad)
        with pytest.raises(ImproperlyConfigured, match="from 1 to 36"):
            conf._env_count("USAGE_ANOMALY_WINDOW", 6, 1, 36)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"USAGE_ANOMALY_HIGH": "1"}, "USAGE_ANOMALY_HIGH must be above 1"),
        ({"USAGE_ANOMALY_LOW": "3/2"}, "USAGE_ANOMALY_LOW from 0 to below 1"),
        ({"USAGE_ANOMALY_MIN_HISTORY": "7"}, "USAGE_ANOMALY_MIN_HISTORY must be a whole number"),
    ],
)
def test_thresholds_that_make_no_sense_stop_the_app(env, message):
    root = Path(__file__).resolve().parents[2]
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env={**keep, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and message in result.stderr


# --- the chart: the projection and the flags ---------------------------------------------------


def test_the_chart_draws_the_projection_above_the_bar_and_its_overage_above_the_limit():
    from usage.charts import NARROW, usage_chart
    from usage.selectors import MonthUsage

    months = [MonthUsage(2025, 2, 800, 1_000), MonthUsage(2025, 3, 600, 1_000, in_progress=True)]
    for layout in (None, NARROW):
        extra = {"layout": layout} if layout else {}
        chart = usage_chart(months, projected=1_500, flags={(2025, 2): "why"}, **extra)
        past, now = chart.bars
        assert chart.plot_top <= now.projected_y < chart.limit_y < now.y  # the scale fits it
        assert now.projected_height == pytest.approx(now.y - now.projected_y, abs=0.2)
        assert now.projected_over_height == pytest.approx(chart.limit_y - now.projected_y, abs=0.2)
        assert (past.flag, now.flag, chart.flagged) == ("why", "", 1)
        assert past.projected_height == 0 and past.marker_y == pytest.approx(past.y - 8)
    below = usage_chart(months, projected=500).bars[-1]  # nothing to draw under the bar
    assert below.projected_height == 0 and below.projected_over_height == 0
    within = usage_chart(months, projected=900).bars[-1]  # above the bar, under the limit
    assert within.projected_height > 0 and within.projected_over_height == 0
