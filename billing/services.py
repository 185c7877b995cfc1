"""Writes of billing: the one way other apps record usage, and the operations behind the tasks."""

import logging
from decimal import Decimal

from django.conf import settings

from billing.drain import drain_usage_inbox, drain_usage_redis, drain_usage_stream, marks_prune
from billing.invoicing import invoice_finalize, periods_to_close
from billing.rollups import rebuild_rollups, rollup_pending_usage
from billing.spend import spend_refresh
from billing.stripe_sync import invoice_push_to_stripe
from billing.usage import (
    PreparedUsage,
    UsageRecordResult,
    usage_commit,
    usage_prepare,
    usage_record,
)

log = logging.getLogger("maas.billing")

__all__ = [
    "PreparedUsage",
    "UsageRecordResult",
    "drain_usage_inbox",
    "drain_usage_redis",
    "drain_usage_stream",
    "invoice_finalize",
    "invoice_push_to_stripe",
    "job_usage_record",
    "periods_to_close",
    "rebuild_rollups",
    "rollup_pending_usage",
    "spend_refresh",
    "usage_commit",
    "usage_prepare",
    "usage_process",
    "usage_record",
]


def job_usage_record(
    *,
    tenant_id: str,
    job_id: str,
    dimensions: dict[str, str],
    seconds: Decimal,
    rows: int,
    compute_meter: str = "compute.cpu_seconds",
) -> None:
    """A finished job's compute time and rows read, each recorded once: the keys derive from the
    job id, so a job finished twice (a redelivered task) counts nothing more."""
    if seconds:
        usage_record(
            tenant=tenant_id,
            meter=compute_meter,
            quantity=seconds,
            idempotency_key=f"{job_id}:compute",
            dimensions=dimensions,
        )
    if rows:
        usage_record(
            tenant=tenant_id,
            meter="data.processed_rows",
            quantity=rows,
            idempotency_key=f"{job_id}:rows",
            dimensions=dimensions,
        )


def usage_process() -> int:
    """Drain the stream or the inbox (when in use), roll up new events, refresh the touched
    tenants' spend. Returns how many events were rolled up."""
    from tenants.selectors import tenants_by_id

    if settings.MAAS_USAGE_SINK == "stream":
        drain_usage_redis()
    elif settings.MAAS_USAGE_SINK == "inbox":
        drain_usage_inbox()
    marks_prune()
    result = rollup_pending_usage()
    for tenant in tenants_by_id(set(result.tenants)):
        try:
            spend_refresh(tenant)
        except LookupError:  # no price book for its plan: an operator must add one
            log.exception("cannot price usage of tenant %s", tenant.pk)
    return result.events
