from django.apps import AppConfig


class MaasConfig(AppConfig):
    """The project package is also an app: it owns the plumbing tables (idempotency, limits)."""

    name = "maas"
    verbose_name = "API plumbing"
