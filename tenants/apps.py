from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants and API keys"

    def ready(self) -> None:
        from maas import admission
        from maas.erasure import eraser_register
        from maas.generation import bump_on_change
        from tenants.authentication import authenticate_again, authenticate_and_count
        from tenants.erasure import tenant_access_erase
        from tenants.models import ApiKey, Tenant

        # Every tenant request is authenticated by the admission pipeline, with this app's keys.
        admission.configure(
            authenticate=authenticate_and_count, authenticate_again=authenticate_again
        )
        # The pipeline caches checked keys with their tenants (tenants.authentication).
        bump_on_change(ApiKey, Tenant)
        eraser_register(90, tenant_access_erase)  # manage.py erase_tenant (maas/erasure.py)
