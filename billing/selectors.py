"""Reads for billing: usage reports, prices, invoices. Each takes the tenant it reads for."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from billing.invoicing import InvoiceDraft, compute_invoice, price_for, pricing_for
from billing.meters import METER_ORDER
from billing.meters import METERS as METERS  # each meter's unit and scale, for reports
from billing.models import Invoice, UsageDaily
from billing.pricing import MeterPricing, charge, pricing_from_json
from billing.rollups import month_start, next_month, usage_rows
from billing.spend import ALERT_THRESHOLDS as ALERT_THRESHOLDS  # when spend alerts are emailed
from billing.spend import spend_check  # noqa: F401  (re-exported: the hot paths' selector)

GROUP_BY_CHOICES = ("meter", "model", "day")


def _month_pricing(tenant, period: datetime) -> dict:
    """Prices of a month as its invoice used them; the current book for open months."""
    invoice = Invoice.objects.filter(tenant=tenant, period_start=period).first()
    if invoice is not None and invoice.pricing:
        return {p["meter"]: pricing_from_json(p) for p in invoice.pricing}
    return pricing_for(tenant)[1]


@dataclass(frozen=True, slots=True)
class UsageRow:
    meter: str
    model: str | None  # with group_by model
    day: date | None  # with group_by day
    quantity: Decimal
    amount: Decimal  # unrounded: rounded once where it is shown


def usage_summary(*, tenant, start: date, end: date, group_by: set[str]) -> list[UsageRow]:
    """Usage from `start` to `end` (inclusive days, UTC) grouped by meter and optionally model
    and day, each row with its amount.

    Amounts are priced the way invoices are: within each month, rows are taken in day order and
    each is charged what it adds to the month's amount (so allowances are used up first and
    tiers climb), so the rows of a whole month add up to its invoice lines before rounding.
    Each row's amount is rounded half-even to cents once.
    """
    group_by = set(group_by) | {"meter"}
    first = datetime.combine(start, time.min, tzinfo=UTC)
    last = datetime.combine(end, time.min, tzinfo=UTC)
    totals: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    period = month_start(first)
    while period <= last:
        pricing = _month_pricing(tenant, period)
        series: dict[tuple[str, str], list] = defaultdict(list)
        for row in usage_rows(tenant_id=tenant.pk, start=period, end=next_month(period)):
            tier = row.dimensions.get("price_tier", "") if row.meter == "predictions" else ""
            series[(row.meter, tier)].append(row)
        for (meter, tier), rows in series.items():
            price = price_for(pricing, meter, tier)
            cumulative = Decimal(0)
            rows.sort(key=lambda r: (r.day, r.dimensions.get("model", "")))
            for row in rows:
                quantity = METERS[meter].from_minor(row.quantity)
                amount = charge(price, cumulative + quantity) - charge(price, cumulative)
                cumulative += quantity
                if not start <= row.day <= end:
                    continue
                key = (
                    meter,
                    row.dimensions.get("model") if "model" in group_by else None,
                    row.day if "day" in group_by else None,
                )
                totals[key][0] += quantity
                totals[key][1] += amount
        period = next_month(period)
    return [
        UsageRow(meter, model, day, quantity, amount)
        for (meter, model, day), (quantity, amount) in sorted(
            totals.items(),
            key=lambda kv: (kv[0][2] or date.min, METER_ORDER.index(kv[0][0]), kv[0][1] or ""),
        )
    ]


@dataclass(frozen=True, slots=True)
class Pricing:
    plan: str
    price_book: str
    currency: str
    meters: list[MeterPricing]  # in METER_ORDER


def pricing_get(*, tenant) -> Pricing:
    book, pricing = pricing_for(tenant)
    meters = [pricing[code] for code in METER_ORDER if code in pricing]
    return Pricing(plan=tenant.plan, price_book=book.code, currency=book.currency, meters=meters)


def invoice_list(*, tenant) -> QuerySet[Invoice]:
    return Invoice.objects.filter(tenant=tenant).prefetch_related("lines")


def invoice_upcoming(*, tenant) -> InvoiceDraft:
    """The current month's invoice as it stands now; nothing is saved."""
    return compute_invoice(tenant, month_start(timezone.now()))


def model_predictions_total(*, tenant_id: str, model_id: str) -> int:
    """Predictions of one model of the tenant, all time, from the daily rollups."""
    total = UsageDaily.objects.filter(
        tenant_id=tenant_id, meter="predictions", dimensions__model=model_id
    ).aggregate(n=Sum("quantity"))["n"]
    return int(METERS["predictions"].from_minor(total)) if total else 0
