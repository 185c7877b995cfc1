"""Reads for billing: usage reports, prices, invoices. Each takes the tenant it reads for."""

from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from billing.invoicing import InvoiceDraft, compute_invoice, price_for, pricing_for
from billing.meters import METER_ORDER, METERS
from billing.models import Invoice
from billing.pricing import charge, decimal_string, money_string, pricing_from_json, pricing_to_json
from billing.rollups import month_start, next_month, usage_rows
from billing.spend import spend_check  # noqa: F401  (re-exported: the hot paths' selector)
from maas.serializers import iso_utc

GROUP_BY_CHOICES = ("meter", "model", "day")


def _month_pricing(tenant, period: datetime) -> dict:
    """Prices of a month as its invoice used them; the current book for open months."""
    invoice = Invoice.objects.filter(tenant=tenant, period_start=period).first()
    if invoice is not None and invoice.pricing:
        return {p["meter"]: pricing_from_json(p) for p in invoice.pricing}
    return pricing_for(tenant)[1]


def usage_summary(*, tenant, start: date, end: date, group_by: set[str]) -> list[dict[str, Any]]:
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
    out = []
    for (meter, model, day), (quantity, amount) in sorted(
        totals.items(),
        key=lambda kv: (kv[0][2] or date.min, METER_ORDER.index(kv[0][0]), kv[0][1] or ""),
    ):
        row: dict[str, Any] = {"meter": meter}
        if "model" in group_by:
            row["model"] = model
        if "day" in group_by:
            row["day"] = day.isoformat()
        row["quantity"] = decimal_string(quantity)
        row["amount"] = money_string(amount)
        out.append(row)
    return out


def pricing_get(*, tenant) -> dict[str, Any]:
    book, pricing = pricing_for(tenant)
    meters = []
    for code in METER_ORDER:
        if code not in pricing:
            continue
        entry = pricing_to_json(pricing[code])
        entry["unit"] = METERS[code].unit
        meters.append(
            {
                k: entry[k]
                for k in ("meter", "unit", "unit_amount", "allowance", "tiers", "price_tiers")
            }
        )
    return {
        "plan": tenant.plan,
        "price_book": book.code,
        "currency": book.currency,
        "meters": meters,
    }


def invoice_list(*, tenant) -> QuerySet[Invoice]:
    return Invoice.objects.filter(tenant=tenant).prefetch_related("lines")


def invoice_upcoming(*, tenant) -> InvoiceDraft:
    """The current month's invoice as it stands now; nothing is saved."""
    return compute_invoice(tenant, month_start(timezone.now()))


def _line_json(meter, tier, kind, description, quantity, unit_amount, amount, adjusts) -> dict:
    line: dict[str, Any] = {
        "meter": meter,
        "description": description,
        "quantity": decimal_string(quantity),
        "unit_amount": decimal_string(unit_amount),
        "amount": money_string(amount),
        "kind": kind,
    }
    if tier:
        line["price_tier"] = tier
    if adjusts:
        line["adjusts_invoice"] = adjusts
    return line


def invoice_to_json(invoice: Invoice | InvoiceDraft) -> dict[str, Any]:
    stored = isinstance(invoice, Invoice)
    lines = invoice.lines.all() if stored else invoice.lines
    return {
        "id": invoice.pk if stored else None,
        "object": "invoice",
        "period_start": iso_utc(invoice.period_start),
        "period_end": iso_utc(invoice.period_end),
        "status": invoice.status if stored else Invoice.Status.DRAFT,
        "currency": invoice.currency,
        "lines": [
            _line_json(
                line.meter,
                line.price_tier,
                line.kind,
                line.description,
                line.quantity,
                line.unit_amount,
                line.amount,
                (line.adjusts_id if stored else (line.adjusts.pk if line.adjusts else None)),
            )
            for line in lines
        ],
        "subtotal": money_string(invoice.subtotal),
        "total": money_string(invoice.total),
        "stripe_invoice_id": (invoice.stripe_invoice_id or None) if stored else None,
        "finalized_at": iso_utc(invoice.finalized_at) if stored else None,
    }
