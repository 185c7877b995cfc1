from django.conf import settings
from django.db import models

from maas.ids import PrefixedIdField
from tenants.plans import PLAN_LIMITS, Limits, Plan


class Tenant(models.Model):
    """A customer company. Everything a tenant owns points here; nothing is shared."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"  # its keys answer 403 until an operator reactivates it

    id = PrefixedIdField(prefix="ten")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # Per-tenant overrides of the plan's limits; empty means "the plan's".
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    max_concurrent_jobs = models.PositiveIntegerField(null=True, blank=True)
    max_upload_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    spend_limit = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="monthly cap; empty: none"
    )
    currency = models.CharField(max_length=3, default="usd")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["-created_at", "-id"], name="tenant_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def limits(self) -> Limits:
        plan = PLAN_LIMITS[self.plan]
        return Limits(
            requests_per_minute=self.requests_per_minute or plan.requests_per_minute,
            max_concurrent_jobs=self.max_concurrent_jobs or plan.max_concurrent_jobs,
            max_upload_bytes=self.max_upload_bytes or plan.max_upload_bytes,
        )


class Membership(models.Model):
    """A person (Django user) in a tenant, for the console."""

    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        DEVELOPER = "developer"
        VIEWER = "viewer"

    id = PrefixedIdField(prefix="mem")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.DEVELOPER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant_id} ({self.role})"


class ApiKey(models.Model):
    """An API key. Only the SHA-256 of the whole key is stored; the key is shown once."""

    id = PrefixedIdField(prefix="key")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=20, unique=True, help_text="public part, for lookup")
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="apikey_list_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}... ({self.name or self.id})"
