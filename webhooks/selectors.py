"""Reads of events and webhooks; each takes the tenant it reads for."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from webhooks.models import Event, WebhookDelivery, WebhookEndpoint

EVENTS_KEPT = timedelta(days=30)


def event_list(*, tenant) -> QuerySet[Event]:
    return Event.objects.filter(tenant=tenant, created_at__gte=timezone.now() - EVENTS_KEPT)


def webhook_endpoint_list(*, tenant) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(tenant=tenant)


def webhook_delivery_list(*, tenant) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__tenant=tenant).select_related("event")
