from django.apps import AppConfig


class BillsConfig(AppConfig):
    name = "bills"

    def ready(self):
        from bills import signals  # noqa: F401  (connects the history signal)
