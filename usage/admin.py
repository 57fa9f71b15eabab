from django.contrib import admin

from customers.admin import CustomerAdmin
from usage.models import Usage


class UsageInline(admin.TabularInline):
    model = Usage
    extra = 0
    fields = ("year", "month", "api_usage", "updated_at")
    readonly_fields = ("updated_at",)
    ordering = ("-year", "-month")


# The customer's page in the admin lists its usage: added here, by the app that owns usage, so
# customers (a lower app) never imports usage.
CustomerAdmin.inlines = [*CustomerAdmin.inlines, UsageInline]


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    list_display = ("customer", "year", "month", "api_usage", "updated_at")
    list_filter = ("year", "month")
    search_fields = ("customer__name",)
    list_select_related = ("customer",)
    ordering = ("-year", "-month", "customer__name")
