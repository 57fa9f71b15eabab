"""Customers and their contract terms (SPEC "Data": Customer; the terms are effective-dated).

The customer's own `monthly_api_limit`, `overage_unit_cost` and `require_csm_approval` are the
terms in force now. `CustomerTerms` keeps each version with the month it applies from; a month
is billed with the version in force for it. A customer with no versions (made in bulk, or before
any change) has one implicit version: its own columns, for every month.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from billing_site.core.fields import MoneyField

CSM_MUST_BE_CS = "The CSM must be a Customer Success user."
TERMS_FIELDS = ("monthly_api_limit", "overage_unit_cost", "require_csm_approval")


class Customer(models.Model):
    name = models.CharField(max_length=200, db_index=True)
    # Where the invoice is addressed: printed as stored, any script, several lines.
    billing_address = models.TextField(blank=True, max_length=1000)
    billing_email = models.EmailField()
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_customers",
        limit_choices_to={"role": "Customer Success"},
        verbose_name="CSM",
    )
    # 64-bit: a large customer makes billions of calls a month.
    monthly_api_limit = models.BigIntegerField()
    # A price per call; may be a fraction of a cent (0.0025).
    overage_unit_cost = MoneyField(max_digits=14, decimal_places=6)
    require_csm_approval = models.BooleanField(
        default=False, help_text="Bills need the CSM's approval as well as a Sales approval."
    )
    # Days from an invoice's issue date to its due date.
    payment_terms_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days from the invoice date to its due date (0 to 365)."
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty means open-ended.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Every change of a customer: who, when, each field's old and new value (admin "History").
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_api_limit__gte=0), name="customer_limit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(overage_unit_cost__gte=0), name="customer_unit_cost_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(payment_terms_days__lte=365), name="customer_payment_terms_in_a_year"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="customer_contract_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        # Browsers post "\r\n"; the address is stored with plain line breaks, as it prints.
        lines = self.billing_address.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.billing_address = "\n".join(line.strip() for line in lines).strip()

        if self.csm_id and self.csm.role != "Customer Success":
            raise ValidationError({"csm": CSM_MUST_BE_CS})
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The contract cannot end before it starts."})


class CustomerTerms(models.Model):
    """One version of a customer's terms, in force from (effective_year, effective_month) until
    the next version's month (SPEC "Data": "a change applies from a given month on")."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="terms_versions")
    effective_year = models.PositiveSmallIntegerField()
    effective_month = models.PositiveSmallIntegerField()
    monthly_api_limit = models.BigIntegerField()
    overage_unit_cost = MoneyField(max_digits=14, decimal_places=6)
    require_csm_approval = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["customer_id", "effective_year", "effective_month"]
        verbose_name_plural = "customer terms"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "effective_year", "effective_month"],
                name="customer_terms_one_per_month",
            ),
            models.CheckConstraint(
                condition=Q(effective_month__gte=1, effective_month__lte=12),
                name="customer_terms_month_1_12",
            ),
            models.CheckConstraint(
                condition=Q(monthly_api_limit__gte=0, overage_unit_cost__gte=0),
                name="customer_terms_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} from {self.effective_year}-{self.effective_month:02d}"

    @property
    def effective_period(self) -> str:
        return f"{self.effective_year}-{self.effective_month:02d}"
