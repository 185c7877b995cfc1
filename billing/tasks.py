"""Billing's Celery tasks: thin, idempotent, on the billing queue."""

import stripe
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from billing import services


@shared_task
def process_usage() -> int:
    return services.usage_process()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_invoices() -> int:
    """Finalizes every closable period that has no invoice yet (safe to run any time)."""
    from tenants.selectors import tenant_list

    services.usage_process()
    now = timezone.now()
    closed = 0
    for tenant in tenant_list().iterator():
        for period in services.periods_to_close(tenant, now, settings.MAAS_INVOICE_GRACE_SECONDS):
            services.invoice_finalize(tenant=tenant, period_start=period)
            closed += 1
    return closed


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError),
    retry_backoff=True,
    max_retries=8,
)
def sync_invoice_to_stripe(invoice_id: str) -> str | None:
    return services.invoice_push_to_stripe(invoice_id=invoice_id)
