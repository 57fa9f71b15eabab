"""Bills, their history, invoices and credit notes are read-only here: every change goes
through the workflow."""

from django.contrib import admin

from bills.models import Bill, BillAction, CreditNote, Invoice


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BillActionInline(admin.TabularInline):
    model = BillAction
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "stakeholder", "from_status", "to_status", "comment")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "year", "month", "overage_amount", "status", "updated_at")
    list_filter = ("status", "year", "month")
    search_fields = ("customer__name",)
    list_select_related = ("customer",)
    inlines = [BillActionInline]


@admin.register(BillAction)
class BillActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "bill", "action", "stakeholder", "from_status", "to_status")
    list_filter = ("action",)
    search_fields = ("bill__customer__name", "stakeholder_name", "comment")
    list_select_related = ("bill", "stakeholder")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "bill", "bill_to_name", "amount", "currency", "issued_on", "due_on")
    search_fields = ("number", "bill_to_name")
    list_select_related = ("bill",)
    exclude = ("pdf",)  # the PDF is downloaded from the bill's page


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ("number", "invoice", "bill_to_name", "amount", "currency", "issued_on")
    search_fields = ("number", "invoice__number", "bill_to_name")
    list_select_related = ("invoice",)
    exclude = ("pdf",)
