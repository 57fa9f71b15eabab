from django.apps import AppConfig


class BillsConfig(AppConfig):
    name = "bills"

    def ready(self):
        from billing_site.core.worker import worker_heartbeat
        from bills import signals  # noqa: F401  (connects the history signal)

        worker_heartbeat.connect(_settle, dispatch_uid="bills.outbox_settle")


def _settle(sender, *, alive: set[str], **kwargs) -> None:
    """At each worker heartbeat: settle what dead workers left (services.outbox, .jobs)."""
    from bills.services.jobs import jobs_settle
    from bills.services.outbox import deliveries_settle

    deliveries_settle(alive=alive)
    jobs_settle(alive=alive)
