from django.db import models
from django.db.models import Q


class Usage(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="usage_records"
    )
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    api_usage = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id", "-year", "-month"]
        verbose_name_plural = "usage"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "year", "month"], name="usage_one_per_customer_month"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="usage_month_1_12"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2999), name="usage_year_sane"
            ),
            models.CheckConstraint(condition=Q(api_usage__gte=0), name="usage_not_negative"),
        ]
        # (year, month, customer): probing one customer-month from a join is an exact index hit
        # even when the planner's statistics are stale (right after a bulk import); a
        # (year, month) index would be scanned for the whole month once per row.
        indexes = [models.Index(fields=["year", "month", "customer"], name="usage_period_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.year}-{self.month:02d}: {self.api_usage}"
