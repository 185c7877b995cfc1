"""Operator reports: revenue and usage by tenant, meter and day (admin pages and commands)."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from billing.meters import METERS
from billing.models import InvoiceLine, UsageDaily
from billing.rollups import next_month


def revenue_by_tenant_and_meter(period_start: datetime) -> dict[tuple[str, str], Decimal]:
    """(tenant id, meter) -> amount invoiced for the month (finalized invoices' lines)."""
    rows = (
        InvoiceLine.objects.filter(
            invoice__period_start=period_start, invoice__finalized_at__isnull=False
        )
        .exclude(invoice__status="void")
        .values("invoice__tenant_id", "meter")
        .annotate(amount=Sum("amount"))
    )
    result: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        result[(row["invoice__tenant_id"], row["meter"])] += Decimal(row["amount"])
    return result


def daily_usage(tenant_id: str, period_start: datetime) -> list[tuple[str, str, Decimal]]:
    """(day, meter, quantity) for one tenant and month, from the daily rollups."""
    rows = (
        UsageDaily.objects.filter(
            tenant_id=tenant_id, bucket__gte=period_start, bucket__lt=next_month(period_start)
        )
        .values("bucket", "meter")
        .annotate(quantity=Sum("quantity"))
        .order_by("bucket", "meter")
    )
    return [
        (r["bucket"].date().isoformat(), r["meter"], METERS[r["meter"]].from_minor(r["quantity"]))
        for r in rows
    ]
