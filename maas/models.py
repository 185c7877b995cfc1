"""Tables of the shared API plumbing. They hold tenant ids as plain strings: `maas` sits below
`tenants` in the import order, so no foreign keys point up to it."""

from django.db import models


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one tenant: the request it was first used with and its answer."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    tenant_id = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    locked_at = models.DateTimeField(help_text="when the request holding the key started")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.key} ({self.state})"


class RateLimitCounter(models.Model):
    """A fixed one-minute window of one tenant's requests, for deployments without Redis."""

    bucket = models.CharField(max_length=100, primary_key=True)  # "<tenant id>:<minute>"
    count = models.PositiveIntegerField(default=0)
    window_end = models.BigIntegerField(db_index=True, help_text="unix seconds")

    def __str__(self) -> str:
        return f"{self.bucket}={self.count}"
