"""What maas.erasure removes of a tenant here: its endpoints, their delivery log, its events."""

from maas.erasure import Erased
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


def tenant_webhooks_erase(tenant_id: str) -> Erased:
    deliveries = WebhookDelivery.objects.filter(endpoint__tenant_id=tenant_id).delete()[0]
    return Erased(
        counts={
            "webhook_deliveries": deliveries,
            "webhook_endpoints": WebhookEndpoint.objects.filter(tenant_id=tenant_id).delete()[0],
            "events": Event.objects.filter(tenant_id=tenant_id).delete()[0],
        }
    )
