from django.urls import path

import maas.ids  # noqa: F401  (registers the oid path converter)
from webhooks import apis

urlpatterns = [
    path("events", apis.EventListApi.as_view(), name="event-list"),
    path("events/<oid:id>", apis.EventDetailApi.as_view(), name="event-detail"),
    path("webhook-endpoints", apis.WebhookEndpointListApi.as_view(), name="webhook-endpoint-list"),
    path(
        "webhook-endpoints/<oid:id>",
        apis.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint-detail",
    ),
    path(
        "webhook-endpoints/<oid:id>/rotate-secret",
        apis.WebhookEndpointRotateApi.as_view(),
        name="webhook-endpoint-rotate",
    ),
    path(
        "webhook-endpoints/<oid:id>/deliveries",
        apis.WebhookDeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhook-deliveries/<oid:id>/redeliver",
        apis.WebhookDeliveryRedeliverApi.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
