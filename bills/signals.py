"""The audit row, and nothing else: every save of a Bill writes exactly one BillAction."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from bills.models import Bill, BillAction


@receiver(post_save, sender=Bill, dispatch_uid="bills.history")
def write_history(sender, instance: Bill, created: bool, raw: bool = False, **kwargs):
    if raw:  # loaddata: fixtures bring their own history rows
        return
    entry = getattr(instance, "_history", None)
    if entry is None:
        # A save that nobody can be named for would leave a hole in the history.
        raise RuntimeError(
            "A bill was saved without a history entry; change bills through bills.services."
        )
    del instance._history
    BillAction.objects.create(
        bill=instance,
        stakeholder=entry.stakeholder,
        action=entry.action,
        comment=entry.comment,
        from_status="" if created else entry.from_status,
        to_status=instance.status,
        changes=entry.changes,
    )
