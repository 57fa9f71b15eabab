"""The audit row, and nothing else: every save of a Bill writes exactly one BillAction, the
HistoryEntry the service attached with Bill.record_history (bills/services/history.py)."""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from bills.models import Bill
from bills.services.history import history_row


@receiver(pre_save, sender=Bill, dispatch_uid="bills.history_required")
def require_history(sender, instance: Bill, raw: bool = False, **kwargs):
    # Refused before the write: a post_save check would come after an autocommitted UPDATE,
    # leaving a changed bill with a hole in its history.
    if raw:  # loaddata: fixtures bring their own history rows
        return
    if instance.pending_history is None:
        raise RuntimeError(
            "A bill was saved without a history entry; change bills through bills.services."
        )


@receiver(post_save, sender=Bill, dispatch_uid="bills.history")
def write_history(sender, instance: Bill, created: bool, raw: bool = False, **kwargs):
    if raw:
        return
    entry, instance.pending_history = instance.pending_history, None
    history_row(instance, entry, created=created).save()
