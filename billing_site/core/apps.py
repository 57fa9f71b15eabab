from django.apps import AppConfig


class CoreConfig(AppConfig):
    # Installed only so Django finds the shared template filters ({% load display %}).
    name = "billing_site.core"
    label = "core"
