"""Housekeeping for the plumbing tables and the jobs' lifecycle (run by beat)."""

from celery import shared_task

from maas.idempotency import purge_expired_idempotency_records as _purge_idempotency
from maas.jobs import job_reap_all
from maas.ratelimit import purge_rate_limit_counters as _purge_rate_limits


@shared_task
def purge_expired_idempotency_records() -> int:
    return _purge_idempotency()


@shared_task
def purge_rate_limit_counters() -> int:
    return _purge_rate_limits()


@shared_task
def reap_jobs() -> int:
    """Training and batch inference jobs whose worker stopped beating (maas.jobs.job_reap)."""
    return job_reap_all()
