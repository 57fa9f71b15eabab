"""The customer admin: editing a customer keeps its history (simple_history: who, when, each
field's old and new value), and a change of terms takes effect from a chosen month as a new
terms version (customers.services.customer_terms_set), so earlier months keep theirs."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from billing_site.core import periods
from billing_site.core.admin_fields import NUMBER_FIELD_OVERRIDES
from billing_site.core.errors import DomainError
from billing_site.core.filters import PeriodField
from billing_site.core.numbers import MAX_INT64, WholeNumberFormField
from customers.models import CSM_MUST_BE_CS, TERMS_FIELDS, Customer, CustomerTerms
from customers.services import customer_terms_check, customer_terms_set


class CustomerAdminForm(forms.ModelForm):
    # Declared for its range: the column's own (64-bit, negatives too) would leave a negative
    # limit to the database's check constraint, whose message names the constraint.
    monthly_api_limit = WholeNumberFormField(
        label="Monthly API limit",
        min_value=0,
        max_value=MAX_INT64,
        range_message=f"Enter a limit from 0 to {MAX_INT64} API calls.",
        help_text="API calls a month before overage, in digits: 1000000.",
    )
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
        help_texts = {
            "overage_unit_cost": "Price per API call over the limit. Use a dot for decimals: "
            "0.0025.",
            "payment_terms_days": "Days from the invoice date to its due date (0 to 365), "
            "in digits.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The choices are Customer Success users; anyone else posted gets the model's message.
        self.fields["csm"].error_messages["invalid_choice"] = CSM_MUST_BE_CS

    def clean_terms_from(self):
        today = periods.today()
        return self.cleaned_data.get("terms_from") or (today.year, today.month)

    def clean(self):
        """The terms meet customer_terms_check, the rule the service applies when they are
        saved: its refusals land on the fields here, before anything is written."""
        data = super().clean()
        terms = [data.get(name) for name in ("monthly_api_limit", "overage_unit_cost")]
        if data.get("terms_from") is None or None in terms:
            return data
        year, month = data["terms_from"]
        try:
            customer_terms_check(
                effective_year=year,
                effective_month=month,
                monthly_api_limit=terms[0],
                overage_unit_cost=terms[1],
            )
        except DomainError as error:
            for field, messages in error.errors.items():
                name = "terms_from" if field == "effective_month" else field
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data


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
    formfield_overrides = NUMBER_FIELD_OVERRIDES
    ordering = ("-effective_year", "-effective_month")
    verbose_name_plural = "Terms versions (newest first)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    form = CustomerAdminForm
    formfield_overrides = NUMBER_FIELD_OVERRIDES
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
