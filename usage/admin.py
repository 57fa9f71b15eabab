"""Usage in the admin: changes go through usage.services like every other recording (the same
checks, a revision with the source "admin"); a month is never deleted, only set to a new total,
and its revisions are listed read-only."""

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from billing_site.core.admin_fields import NUMBER_FIELD_OVERRIDES
from billing_site.core.errors import DomainError
from customers.admin import CustomerAdmin
from usage.models import Usage, UsageRevision, UsageSource
from usage.services import UsageRow, usage_check_many, usage_record_many


def _check(rows: list[UsageRow], user) -> dict[int, list[tuple[str, str]]]:
    """The service's refusal of the rows, as {index: [(field or "", message)]}."""
    try:
        errors = usage_check_many(items=rows, user=user)
    except DomainError as error:
        return {0: [("", error.message)]}
    found: dict[int, list[tuple[str, str]]] = {}
    for error in errors:
        field = error.field if error.field in ("year", "month", "api_usage") else ""
        found.setdefault(error.row, []).append((field, error.message))
    return found


class _ServiceDecides:
    """The recording service's checks (usage_check_many) judge a row, with the messages the
    pages and the API give; the model's check constraints would only repeat them in their
    own words ("Constraint … is violated"), and still hold in the database."""

    def validate_constraints(self):
        pass


class UsageAdminForm(_ServiceDecides, forms.ModelForm):
    user = None  # the request's user, set by UsageAdmin.get_form

    class Meta:
        model = Usage
        fields = ["customer", "year", "month", "api_usage"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        instance = self.instance
        row = UsageRow(
            customer_id=data["customer"].pk if "customer" in data else instance.customer_id,
            year=data.get("year", instance.year),
            month=data.get("month", instance.month),
            api_usage=data["api_usage"],
        )
        for field, message in _check([row], self.user).get(0, []):
            self.add_error(field if field in self.fields else None, message)
        self.row = row
        return data


class UsageInlineForm(_ServiceDecides, forms.ModelForm):
    class Meta:
        model = Usage
        fields = ["year", "month", "api_usage"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A recorded month keeps its place; only its total changes.
            self.fields["year"].disabled = True
            self.fields["month"].disabled = True


class UsageInlineFormSet(BaseInlineFormSet):
    """Saves the changed rows of a customer's usage through usage_record_many, in one call."""

    user = None  # set by UsageInline.get_formset

    def _changed(self) -> list[tuple[forms.ModelForm, UsageRow]]:
        customer_id = self.instance.pk
        return [
            (
                form,
                UsageRow(
                    customer_id=customer_id,
                    year=form.cleaned_data["year"],
                    month=form.cleaned_data["month"],
                    api_usage=form.cleaned_data["api_usage"],
                ),
            )
            for form in self.forms
            if form.has_changed() and not form.errors and form.cleaned_data
        ]

    def clean(self):
        super().clean()
        changed = self._changed()
        if not changed:
            return
        refused = _check([row for _, row in changed], self.user)
        for index, problems in refused.items():
            form = changed[index][0]
            for field, message in problems:
                form.add_error(field or None, message)

    def save(self, commit=True):
        changed = self._changed()
        if changed:
            usage_record_many(
                items=[row for _, row in changed], user=self.user, source=UsageSource.ADMIN
            )
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        saved = []
        for form, row in changed:
            usage = Usage.objects.get(customer_id=row.customer_id, year=row.year, month=row.month)
            if form.instance.pk:
                self.changed_objects.append((usage, form.changed_data))
            else:
                self.new_objects.append(usage)
            form.instance = usage
            saved.append(usage)
        return saved


class UsageInline(admin.TabularInline):
    model = Usage
    form = UsageInlineForm
    formset = UsageInlineFormSet
    formfield_overrides = NUMBER_FIELD_OVERRIDES
    extra = 0
    can_delete = False
    fields = ("year", "month", "api_usage", "updated_at")
    readonly_fields = ("updated_at",)
    ordering = ("-year", "-month")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"user": request.user})

    def has_add_permission(self, request, obj=None):
        # Months are added to a saved customer: the service checks them against it.
        return obj is not None and super().has_add_permission(request, obj)


# The customer's page in the admin lists its usage: added here, by the app that owns usage, so
# customers (a lower app) never imports usage.
CustomerAdmin.inlines = [*CustomerAdmin.inlines, UsageInline]


class UsageRevisionInline(admin.TabularInline):
    model = UsageRevision
    extra = 0
    can_delete = False
    fields = ("created_at", "user", "source", "file_name", "old_value", "new_value")
    readonly_fields = fields
    verbose_name_plural = "Revisions (newest first)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    form = UsageAdminForm
    formfield_overrides = NUMBER_FIELD_OVERRIDES
    list_display = ("customer", "year", "month", "api_usage", "updated_at")
    list_filter = ("year", "month")
    search_fields = ("customer__name",)
    list_select_related = ("customer",)
    ordering = ("-year", "-month", "customer__name")
    inlines = [UsageRevisionInline]

    def get_readonly_fields(self, request, obj=None):
        # A recorded month keeps its place; only its total changes.
        return ("customer", "year", "month") if obj else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def has_delete_permission(self, request, obj=None):
        # Its revisions are kept, so the month is too: set it to a new total instead.
        return False

    def save_model(self, request, obj, form, change):
        usage_record_many(items=[form.row], user=request.user, source=UsageSource.ADMIN)
        saved = Usage.objects.get(
            customer_id=form.row.customer_id, year=form.row.year, month=form.row.month
        )
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at
