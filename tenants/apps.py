from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants and API keys"

    def ready(self) -> None:
        from maas.generation import bump_on_change
        from tenants import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from tenants.models import ApiKey, Tenant

        # The predict path caches checked keys with their tenants (tenants.authentication).
        bump_on_change(ApiKey, Tenant)
