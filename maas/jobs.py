"""What training and batch inference jobs share: their lifecycle and the per-tenant job limit."""

from django.db import models

from maas.errors import RateLimited


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLING)
FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


def require_job_slot(*, active: int, limit: int, kind: str) -> None:
    """429 `concurrency_limit` when the tenant already runs `limit` jobs of this kind."""
    if active >= limit:
        raise RateLimited(
            f"You already have {active} {kind} job(s) running; your plan allows {limit} at a "
            "time. Retry when one finishes, or cancel one.",
            retry_after=30,
            code="concurrency_limit",
        )
