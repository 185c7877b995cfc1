"""Writes of billing: the one way other apps record usage, and the operations behind the tasks."""

import logging

from django.conf import settings

from billing.invoicing import invoice_finalize, periods_to_close
from billing.rollups import rebuild_rollups, rollup_pending_usage
from billing.spend import spend_refresh
from billing.stripe_sync import invoice_push_to_stripe
from billing.usage import (
    UsageRecordResult,
    drain_usage_inbox,
    drain_usage_stream,
    usage_record,
)

log = logging.getLogger("maas.billing")

__all__ = [
    "UsageRecordResult",
    "drain_usage_inbox",
    "drain_usage_stream",
    "invoice_finalize",
    "invoice_push_to_stripe",
    "periods_to_close",
    "rebuild_rollups",
    "rollup_pending_usage",
    "spend_refresh",
    "usage_process",
    "usage_record",
]


def usage_process() -> int:
    """Drain the stream or the inbox (when in use), roll up new events, refresh the touched
    tenants' spend. Returns how many events were rolled up."""
    from tenants.models import Tenant

    if settings.MAAS_USAGE_SINK == "stream":
        drain_usage_stream()
    elif settings.MAAS_USAGE_SINK == "inbox":
        drain_usage_inbox()
    result = rollup_pending_usage()
    for tenant in Tenant.objects.filter(pk__in=result.tenants):
        try:
            spend_refresh(tenant)
        except LookupError:  # no price book for its plan: an operator must add one
            log.exception("cannot price usage of tenant %s", tenant.pk)
    return result.events
