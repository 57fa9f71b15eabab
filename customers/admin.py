from django.contrib import admin

from customers.models import Customer


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
    # usage/admin.py adds the customer's usage as an inline (usage sits above customers).
    inlines: list = []
