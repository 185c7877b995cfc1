"""Housekeeping for the plumbing tables (run by beat)."""

from celery import shared_task

from maas.idempotency import purge_expired_idempotency_records as _purge_idempotency
from maas.ratelimit import purge_rate_limit_counters as _purge_rate_limits


@shared_task
def purge_expired_idempotency_records() -> int:
    return _purge_idempotency()


@shared_task
def purge_rate_limit_counters() -> int:
    return _purge_rate_limits()
