import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


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


class UsageSource(models.TextChoices):
    """Where a change of usage came from."""

    PAGE = "page", "the record page"
    CSV = "csv", "a CSV upload"
    API = "api", "the API"
    ADMIN = "admin", "the admin"
    COMMAND = "command", "import_usage"


class UsageRevisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Usage revisions are append-only.")

    def delete(self):
        raise PermissionError("Usage revisions are append-only.")


class UsageRevision(models.Model):
    """One change of a customer-month's total: the value before (None: the month was new) and
    after, who made it, when, and from where. Append-only: the model, its querysets and the
    database (triggers, migration 0003) refuse edits; a month with revisions cannot be deleted."""

    # Indexed by usage_revision_newest_idx, which starts with it.
    usage = models.ForeignKey(
        Usage, on_delete=models.PROTECT, related_name="revisions", db_index=False
    )
    old_value = models.BigIntegerField(null=True, blank=True)
    new_value = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="usage_revisions"
    )
    source = models.CharField(max_length=16, choices=UsageSource.choices)
    # The uploaded or imported file's name, for the csv and command sources.
    file_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = UsageRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=[s.value for s in UsageSource]),
                name="usage_revision_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(new_value__gte=0), name="usage_revision_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["usage", "-created_at", "-id"], name="usage_revision_newest_idx")
        ]

    def __str__(self) -> str:
        return f"usage {self.usage_id}: {self.old_value} -> {self.new_value} ({self.source})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Usage revisions are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Usage revisions are append-only.")


class UsageUpload(models.Model):
    """A CSV file previewed on the record page and waiting for its Confirm: the rows as read,
    each with the value its customer-month held at the preview (None: no usage yet), so the
    Confirm writes exactly what was shown, or nothing if the usage changed meanwhile. Kept for
    usage.services.uploads.PREVIEW_TTL; the token in the page's form is its id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_uploads"
    )
    file_name = models.CharField(max_length=255)
    # [[line, customer_id, year, month, api_usage, value at the preview or null], ...]
    rows = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # {"created": n, "updated": n, "unchanged": n} once confirmed.
    result = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.file_name} by {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"
