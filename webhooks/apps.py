from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Events and webhooks"

    def ready(self) -> None:
        from maas.erasure import eraser_register
        from webhooks.erasure import tenant_webhooks_erase

        eraser_register(10, tenant_webhooks_erase)  # manage.py erase_tenant (maas/erasure.py)
