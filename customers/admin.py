"""The customer admin: editing a customer keeps its history (simple_history: who, when, each
field's old and new value), and a change of terms takes effect from a chosen month as a new
terms version (customers.services.customer_terms_set), so earlier months keep theirs."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from billing_site.core import periods
from billing_site.core.errors import DomainError
from billing_site.core.filters import PeriodField
from customers.models import TERMS_FIELDS, Customer, CustomerTerms
from customers.services import customer_terms_set


class CustomerAdminForm(forms.ModelForm):
    terms_from = PeriodField(
        label="Terms apply from",
        required=False,
        help_text="YYYY-MM: the month from which a change of the limit, the unit cost or the "
        "approval policy applies (empty: this month). Earlier months keep their terms.",
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "billing_address",
            "billing_email",
            "csm",
            "monthly_api_limit",
            "overage_unit_cost",
            "require_csm_approval",
            "payment_terms_days",
            "start_date",
            "end_date",
        ]

    def clean_terms_from(self):
        value = self.cleaned_data.get("terms_from")
        today = periods.today()
        if value and tuple(value) > (today.year, today.month):
            raise forms.ValidationError("Terms can apply from this month or an earlier one.")
        return value or (today.year, today.month)


class CustomerTermsInline(admin.TabularInline):
    model = CustomerTerms
    extra = 0
    can_delete = False
    fields = (
        "effective_period",
        "monthly_api_limit",
        "overage_unit_cost",
        "require_csm_approval",
        "created_by",
        "created_at",
    )
    readonly_fields = fields
    ordering = ("-effective_year", "-effective_month")
    verbose_name_plural = "Terms versions (newest first)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    form = CustomerAdminForm
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
    inlines: list = [CustomerTermsInline]

    def save_model(self, request, obj, form, change):
        changed_terms = change and any(name in form.changed_data for name in TERMS_FIELDS)
        if not changed_terms:
            super().save_model(request, obj, form, change)
            return
        # The row keeps its terms until the new version says otherwise: the version decides
        # which months the change applies to.
        new_terms = {name: form.cleaned_data[name] for name in TERMS_FIELDS}
        for name in TERMS_FIELDS:
            setattr(obj, name, form.initial[name])
        super().save_model(request, obj, form, change)
        year, month = form.cleaned_data["terms_from"]
        try:
            customer_terms_set(
                customer=obj,
                effective_year=year,
                effective_month=month,
                user=request.user,
                **new_terms,
            )
        except DomainError as error:  # the form checked the month; the values are the model's
            self.message_user(request, error.message, level="error")
        obj.refresh_from_db()
