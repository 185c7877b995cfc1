"""Plans and the limits they give (API.md "Tenant and keys"). A tenant may override each limit."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models


class Plan(models.TextChoices):
    FREE = "free"
    STANDARD = "standard"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True)
class Limits:
    requests_per_minute: int
    max_concurrent_jobs: int
    max_upload_bytes: int  # decimal megabytes: 10 MB = 10,000,000 bytes


PLAN_LIMITS: dict[str, Limits] = {
    Plan.FREE: Limits(requests_per_minute=60, max_concurrent_jobs=1, max_upload_bytes=10_000_000),
    Plan.STANDARD: Limits(
        requests_per_minute=6_000, max_concurrent_jobs=4, max_upload_bytes=100_000_000
    ),
    Plan.ENTERPRISE: Limits(
        requests_per_minute=60_000, max_concurrent_jobs=32, max_upload_bytes=1_000_000_000
    ),
}

# A new tenant's monthly spend cap: free plans cannot spend beyond their allowances.
PLAN_DEFAULT_SPEND_LIMIT: dict[str, Decimal | None] = {
    Plan.FREE: Decimal("0.00"),
    Plan.STANDARD: None,
    Plan.ENTERPRISE: None,
}
