from django.contrib import admin

from customers.models import Customer
from usage.models import Usage


class UsageInline(admin.TabularInline):
    model = Usage
    extra = 0
    fields = ("year", "month", "api_usage", "updated_at")
    readonly_fields = ("updated_at",)
    ordering = ("-year", "-month")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "csm",
        "monthly_api_limit",
        "overage_unit_cost",
        "require_csm_approval",
        "start_date",
        "end_date",
    )
    list_filter = ("csm", "require_csm_approval")
    search_fields = ("name", "billing_email")
    list_select_related = ("csm",)
    inlines = [UsageInline]
