from django.db import models

from maas.ids import PrefixedIdField

EVENT_TYPES = (
    "training_job.succeeded",
    "training_job.failed",
    "training_job.canceled",
    "inference_job.succeeded",
    "inference_job.failed",
    "inference_job.canceled",
    "model.version_created",
    "model.alias_updated",
    "spend.threshold_reached",
    "invoice.finalized",
)


class Event(models.Model):
    """Something that happened to a tenant's object, recorded in the transaction that made it
    happen (an outbox): an event exists if and only if its change committed."""

    id = PrefixedIdField(prefix="evt")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=40)
    data = models.JSONField(help_text='{"object": the object as its GET answers}')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="event_list"),
            models.Index(fields=["created_at"], name="event_age"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"


class WebhookEndpoint(models.Model):
    class Status(models.TextChoices):
        ENABLED = "enabled"
        DISABLED = "disabled"

    id = PrefixedIdField(prefix="we")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=2000)
    events = models.JSONField(help_text='event types, or ["*"]')
    description = models.CharField(max_length=500, blank=True)
    secret = models.CharField(max_length=100, help_text="whsec_ + base64 of 32 random bytes")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ENABLED)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="webhook_list")]

    def __str__(self) -> str:
        return f"{self.id} {self.url}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: attempted until a 2xx, with backoff (webhooks.delivery)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = PrefixedIdField(prefix="wd")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker sending it holds it until then; a worker that dies lets it go (dispatch_due).
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="delivery_list"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.status}"
