from django.contrib import admin

from usage.models import Usage


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    list_display = ("customer", "year", "month", "api_usage", "updated_at")
    list_filter = ("year", "month")
    search_fields = ("customer__name",)
    list_select_related = ("customer",)
    ordering = ("-year", "-month", "customer__name")
