from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    # Installed so Django finds the shared template filters ({% load display %}), and so every
    # SQLite connection has the function the history triggers ask (core.maintenance).
    name = "billing_site.core"
    label = "core"

    def ready(self) -> None:
        from billing_site.core.maintenance import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="billing_sqlite_function")
