"""Events and webhook endpoints: the writes. Other apps record events here, inside the
transaction of the change they announce."""

import base64
import os
from typing import Any

from django.db import transaction
from django.utils import timezone

from maas.errors import InvalidRequest, NotFound
from webhooks.addresses import url_checked
from webhooks.models import EVENT_TYPES, Event, WebhookDelivery, WebhookEndpoint


def event_record(*, tenant_id: str, type: str, obj: dict[str, Any]) -> Event:
    """Records the event and one pending delivery per enabled endpoint that subscribed to it;
    call it inside the transaction of the change. The deliveries are sent once that commits
    (and by the dispatcher if that send is lost: webhooks.delivery)."""
    assert type in EVENT_TYPES, type
    event = Event.objects.create(tenant_id=tenant_id, type=type, data={"object": obj})
    endpoints = WebhookEndpoint.objects.filter(
        tenant_id=tenant_id, status=WebhookEndpoint.Status.ENABLED
    )
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
            for endpoint in endpoints
            if "*" in endpoint.events or type in endpoint.events
        ]
    )
    if deliveries:
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _send_soon(ids))
    return event


def _send_soon(ids: list[str]) -> None:
    from webhooks.tasks import deliver_webhook

    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def events_checked(events: list[str]) -> list[str]:
    if events == ["*"]:
        return events
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown or not events:
        raise InvalidRequest(
            f"Unknown event type {unknown[0]!r}; choose from {', '.join(EVENT_TYPES)}, or ['*']."
            if unknown
            else "events must list at least one event type, or ['*'].",
            param="events",
        )
    return sorted(set(events))


def webhook_endpoint_create(
    *, tenant, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        tenant=tenant,
        url=url_checked(url),
        events=events_checked(events),
        description=description,
        secret=new_secret(),
    )


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """url, events, description, status (re-enabling clears the failure clock)."""
    if "url" in changes:
        endpoint.url = url_checked(changes["url"])
    if "events" in changes:
        endpoint.events = events_checked(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "status" in changes:
        endpoint.status = changes["status"]
        if endpoint.status == WebhookEndpoint.Status.ENABLED:
            endpoint.failing_since = None
    endpoint.save()
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Sends the event to the endpoint again now, as a new delivery (the old one keeps its
    record); the receiver sees the same `webhook-id`."""
    if delivery.endpoint.status != WebhookEndpoint.Status.ENABLED:
        raise NotFound("The delivery's endpoint is disabled; enable it first.", param="id")
    again = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint, event=delivery.event, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: _send_soon([again.pk]))
    return again
