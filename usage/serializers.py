"""The JSON of GET /api/usage/summary: the usage overview's figures (usage.overview.Overview).

Output only. Counts are 64-bit JSON numbers, money decimal strings with its `currency`, as in
the rest of the API (docs/api.md).
"""

from __future__ import annotations

from rest_framework import serializers

from billing_site.core.api import Int64Field

LEVEL_HELP = (
    'How full the month is against the current limit: "over" (above it), "at" (exactly it), '
    '"near" (80% or more), or "" (below 80%).'
)


def _money(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=30, decimal_places=2, coerce_to_string=True, help_text=help_text
    )


class CustomerUsageSerializer(serializers.Serializer):
    customer_id = Int64Field()
    customer_name = serializers.CharField()
    api_usage = Int64Field(help_text="The month's API calls (so far, for the month in progress).")
    monthly_api_limit = Int64Field(source="limit", help_text="The customer's current limit.")
    percent_of_limit = serializers.IntegerField(
        source="percent", help_text="Whole percent, rounded half-up."
    )
    level = serializers.CharField(help_text=LEVEL_HELP)


class CustomerIncreaseSerializer(CustomerUsageSerializer):
    previous_usage = Int64Field(
        allow_null=True, help_text="The month before; null when none was recorded."
    )
    increase = Int64Field()


class CustomerProjectionSerializer(CustomerUsageSerializer):
    projected_usage = Int64Field(help_text="By month end at the run rate, rounded half-up.")
    projected_percent_of_limit = serializers.IntegerField(source="projected_percent")


class SuspiciousSerializer(CustomerUsageSerializer):
    reason = serializers.CharField(help_text='e.g. "4.2x the 6-month median of 1,234,000".')


class CustomerRefSerializer(serializers.Serializer):
    customer_id = Int64Field(source="pk")
    customer_name = serializers.CharField(source="name")


class LimitGroupSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Customers in all.")
    customers = CustomerUsageSerializer(many=True, help_text="The 25 fullest, fullest first.")


class StatusTotalSerializer(serializers.Serializer):
    status = serializers.CharField(source="value", help_text="A bill status.")
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = _money("The bills' total, exact.")


class BilledSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="The month's bills, void ones left out.")
    amount = _money("What they add up to (rejected bills included: billed, then written off).")
    by_status = StatusTotalSerializer(
        many=True, source="statuses", help_text="Per status, in the lifecycle's order."
    )


class OverageSerializer(serializers.Serializer):
    amount = _money(
        "What the month would bill at each customer's current terms: calls over the limit x "
        "unit cost, rounded half-up to cents per customer, then added. Customers whose "
        "contract covers the month."
    )
    customers = serializers.IntegerField(help_text="Customers over their limit under contract.")
    billed = BilledSerializer()
    not_billed = _money("amount - billed.amount (negative when the bills add up to more).")


class PreviousMonthSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    total_calls = Int64Field()
    customers_with_usage = serializers.IntegerField()


class OnTrackSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    customers = CustomerProjectionSerializer(many=True, help_text="The 25 fullest.")


class ProjectionSerializer(serializers.Serializer):
    days_elapsed = serializers.IntegerField(help_text="Today counts (settings.TIME_ZONE).")
    days_in_month = serializers.IntegerField()
    projected_total = Int64Field(help_text="total_calls / days_elapsed x days_in_month.")
    change_percent = serializers.DecimalField(
        max_digits=30, decimal_places=1, allow_null=True, help_text="Against the month before."
    )
    on_track_to_pass = OnTrackSerializer(
        help_text="Customers not over their limit yet whose projection passes it."
    )


class WithoutUsageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    customers = CustomerRefSerializer(many=True, help_text="The first 25 by name.")


class SuspiciousGroupSerializer(serializers.Serializer):
    judged = serializers.BooleanField(
        help_text="false for the month in progress: it is judged once it has ended."
    )
    count = serializers.IntegerField()
    not_enough_history = serializers.IntegerField(
        help_text="Customers with usage but too few recorded months before to judge."
    )
    customers = SuspiciousSerializer(many=True, help_text="The 25 furthest from their median.")


class UsageSummarySerializer(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    in_progress = serializers.BooleanField(help_text="The current month: totals so far.")
    currency = serializers.CharField(help_text="ISO 4217 code of every amount.")
    total_calls = Int64Field()
    customers_with_usage = serializers.IntegerField()
    previous = PreviousMonthSerializer(help_text="The month before.")
    change = Int64Field(help_text="total_calls - previous.total_calls (may be negative).")
    change_percent = serializers.DecimalField(
        max_digits=30, decimal_places=1, allow_null=True, help_text="null when previous had 0."
    )
    over_limit = LimitGroupSerializer()
    near_limit = LimitGroupSerializer(help_text='From 80% of the limit up to it ("near", "at").')
    overage = OverageSerializer()
    top_consumers = CustomerUsageSerializer(many=True, help_text="The 10 largest by calls.")
    largest_increases = CustomerIncreaseSerializer(many=True, help_text="Up to 5.")
    without_usage = WithoutUsageSerializer(
        help_text="Customers whose contract covers the month, with no usage recorded for it."
    )
    projection = ProjectionSerializer(
        allow_null=True, help_text="The month in progress only; null otherwise."
    )
    suspicious = SuspiciousGroupSerializer()


def summary_data(o) -> dict:
    """The dict UsageSummarySerializer writes, from a usage.overview.Overview."""
    t, p = o.totals, o.projection
    return {
        "year": o.year,
        "month": o.month,
        "in_progress": o.in_progress,
        "currency": o.currency,
        "total_calls": t.total,
        "customers_with_usage": t.customers,
        "previous": {
            "year": o.previous[0],
            "month": o.previous[1],
            "total_calls": t.previous_total,
            "customers_with_usage": t.previous_customers,
        },
        "change": t.change,
        "change_percent": t.change_percent,
        "over_limit": {"count": t.over, "customers": o.over},
        "near_limit": {"count": t.near, "customers": o.near},
        "overage": {
            "amount": o.overage,
            "customers": o.overage_customers,
            "billed": o.billed,
            "not_billed": o.not_billed,
        },
        "top_consumers": o.top,
        "largest_increases": o.increases,
        "without_usage": {"count": o.without_usage_count, "customers": o.without_usage},
        "projection": p
        and {
            "days_elapsed": p.rate.days_elapsed,
            "days_in_month": p.rate.days_in_month,
            "projected_total": p.total,
            "change_percent": p.change_percent,
            "on_track_to_pass": {"count": p.on_track_count, "customers": p.on_track},
        },
        "suspicious": {
            "judged": not o.suspicious.in_progress,
            "count": o.suspicious.count,
            "not_enough_history": o.suspicious.not_judged,
            "customers": o.suspicious.flagged,
        },
    }
