"""Webhook deliveries by status, read at each scrape (maas/metrics.py)."""

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from webhooks.models import WebhookDelivery


def deliveries_read() -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "maas_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
    )
    counts = dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("pk")))
    for status in WebhookDelivery.Status.values:
        family.add_metric([status], counts.get(status, 0))
    yield family
