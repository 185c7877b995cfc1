from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Events and webhooks"

    def ready(self) -> None:
        from maas.erasure import eraser_register
        from maas.metrics import scrape_register
        from webhooks.erasure import tenant_webhooks_erase
        from webhooks.metrics import deliveries_read

        scrape_register(deliveries_read)  # read at each GET /metrics
        eraser_register(10, tenant_webhooks_erase)  # manage.py erase_tenant (maas/erasure.py)
