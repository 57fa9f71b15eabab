"""The audit row, and nothing else: every save of a Bill writes exactly one BillAction."""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from bills.models import Bill, BillAction


@receiver(pre_save, sender=Bill, dispatch_uid="bills.history_required")
def require_history(sender, instance: Bill, raw: bool = False, **kwargs):
    # Refused before the write: a post_save check would come after an autocommitted UPDATE,
    # leaving a changed bill with a hole in its history.
    if raw:  # loaddata: fixtures bring their own history rows
        return
    if getattr(instance, "_history", None) is None:
        raise RuntimeError(
            "A bill was saved without a history entry; change bills through bills.services."
        )


@receiver(post_save, sender=Bill, dispatch_uid="bills.history")
def write_history(sender, instance: Bill, created: bool, raw: bool = False, **kwargs):
    if raw:
        return
    entry = instance.__dict__.pop("_history")
    BillAction.objects.create(
        bill=instance,
        stakeholder=entry.stakeholder,
        action=entry.action,
        comment=entry.comment,
        from_status="" if created else entry.from_status,
        to_status=instance.status,
        changes=entry.changes,
    )
