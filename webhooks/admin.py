from django.contrib import admin

from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "type", "created_at")
    list_filter = ("type",)
    search_fields = ("id", "tenant__id", "tenant__name")
    readonly_fields = [f.name for f in Event._meta.fields]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "url", "status", "failing_since", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "url", "tenant__id", "tenant__name")
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "endpoint", "event", "status", "attempts", "response_status")
    list_filter = ("status",)
    search_fields = ("id", "endpoint__id", "event__id")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
