"""Invoices: computing a period's lines, finalizing, and late usage as adjustment lines.

One function computes lines for both the upcoming preview and the invoice that is finalized, so
they agree for the same usage. Each line is rounded half-even to cents once; the subtotal is the
sum of the rounded lines, so it can never differ from them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.meters import METER_ORDER, METERS, PRICE_TIERS
from billing.models import BillingAccount, Invoice, InvoiceLine, PendingAdjustment, PriceBook
from billing.pricing import (
    ZERO,
    MeterPricing,
    Price,
    charge,
    pricing_from_json,
    pricing_to_json,
    round_money,
)
from billing.rollups import billing_lock, month_start, next_month, usage_rows
from billing.serializers import InvoiceOutput
from webhooks.services import event_record

UNIT_AMOUNT_PLACES = Decimal("0.000000000001")
_TIER_ORDER = {"": 0, **{t: i + 1 for i, t in enumerate(PRICE_TIERS)}}


@dataclass
class Line:
    kind: str
    meter: str
    price_tier: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal
    adjusts: Invoice | None = None


@dataclass
class InvoiceDraft:
    tenant: Any
    period_start: datetime
    period_end: datetime
    currency: str
    pricing: list[dict[str, Any]]
    lines: list[Line] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal


def price_book_for(tenant) -> PriceBook:
    """The tenant's custom price book if its billing account names one, else its plan's."""
    account = BillingAccount.objects.filter(tenant=tenant).select_related("price_book").first()
    if account is not None and account.price_book_id:
        return account.price_book
    book = PriceBook.objects.filter(code=tenant.plan).first()
    if book is None:
        raise LookupError(f"no price book for plan {tenant.plan!r}; add one in the admin")
    return book


def pricing_for(tenant) -> tuple[PriceBook, dict[str, MeterPricing]]:
    book = price_book_for(tenant)
    return book, {p.meter: p.to_pricing() for p in book.prices.all()}


def invoice_line_key(meter: str, dimensions: dict[str, str]) -> tuple[str, str]:
    """The invoice line a usage event's quantity adds to: (meter, price_tier); only
    predictions are split by the model's price tier."""
    return meter, dimensions.get("price_tier", "") if meter == "predictions" else ""


def period_quantities(tenant_id: str, start: datetime) -> dict[tuple[str, str], Decimal]:
    """(meter, price_tier) -> quantity used in the month starting at `start`."""
    minor: dict[tuple[str, str], int] = defaultdict(int)
    for row in usage_rows(tenant_id=tenant_id, start=start, end=next_month(start)):
        minor[invoice_line_key(row.meter, row.dimensions)] += row.quantity
    return {key: METERS[key[0]].from_minor(q) for key, q in minor.items() if q}


def _sorted_keys(keys) -> list[tuple[str, str]]:
    return sorted(keys, key=lambda k: (METER_ORDER.index(k[0]), _TIER_ORDER.get(k[1], 99), k[1]))


def price_for(pricing: dict[str, MeterPricing], meter: str, tier: str) -> Price:
    found = pricing.get(meter)
    return found.for_tier(tier or None) if found else Price(unit_amount=ZERO)


def _description(meter: str, tier: str) -> str:
    text = METERS[meter].description
    return f"{text} ({tier} tier)" if tier else text


def _line(kind, meter, tier, quantity, raw_amount, description, adjusts=None) -> Line:
    unit = (raw_amount / quantity).quantize(UNIT_AMOUNT_PLACES) if quantity else ZERO
    return Line(kind, meter, tier, description, quantity, unit, round_money(raw_amount), adjusts)


def compute_invoice(tenant, period_start: datetime) -> InvoiceDraft:
    book, pricing = pricing_for(tenant)
    draft = InvoiceDraft(
        tenant=tenant,
        period_start=period_start,
        period_end=next_month(period_start),
        currency=book.currency,
        pricing=[pricing_to_json(p) for p in pricing.values()],
    )
    quantities = period_quantities(tenant.pk, period_start)
    for meter, tier in _sorted_keys(quantities):
        quantity = quantities[(meter, tier)]
        raw = charge(price_for(pricing, meter, tier), quantity)
        draft.lines.append(
            _line(InvoiceLine.Kind.USAGE, meter, tier, quantity, raw, _description(meter, tier))
        )
    draft.lines.extend(_adjustment_lines(tenant))
    return draft


def _adjustment_lines(tenant) -> list[Line]:
    """For each finalized invoice that received late usage: the usage not billed yet, priced at
    that invoice's prices as the difference between the amount for all of it and for what was
    billed (so allowances and tiers apply as if it had arrived on time)."""
    lines = []
    pending = PendingAdjustment.objects.filter(tenant=tenant).select_related("invoice")
    for marker in sorted(pending, key=lambda m: m.invoice.period_start):
        invoice = marker.invoice
        pricing = {p["meter"]: pricing_from_json(p) for p in invoice.pricing}
        billed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        billed_lines = InvoiceLine.objects.filter(invoice=invoice, kind=InvoiceLine.Kind.USAGE)
        later = InvoiceLine.objects.filter(adjusts=invoice, invoice__finalized_at__isnull=False)
        for line in [*billed_lines, *later]:
            billed[(line.meter, line.price_tier)] += line.quantity
        actual = period_quantities(tenant.pk, invoice.period_start)
        for meter, tier in _sorted_keys(actual):
            late = actual[(meter, tier)] - billed[(meter, tier)]
            if late <= 0:
                continue
            price = price_for(pricing, meter, tier)
            raw = charge(price, actual[(meter, tier)]) - charge(price, billed[(meter, tier)])
            description = (
                f"Late usage for {invoice.period_start:%Y-%m}: {_description(meter, tier)}"
            )
            lines.append(
                _line(InvoiceLine.Kind.ADJUSTMENT, meter, tier, late, raw, description, invoice)
            )
    return lines


def invoice_finalize(*, tenant, period_start: datetime) -> Invoice:
    """Creates and finalizes the invoice of a closed period; running it again returns the same
    invoice. Once finalized an invoice never changes: later usage of its period becomes
    adjustment lines on the next one."""
    with transaction.atomic():
        billing_lock()
        existing = Invoice.objects.filter(tenant=tenant, period_start=period_start).first()
        if existing is not None:
            return existing
        draft = compute_invoice(tenant, period_start)
        now = timezone.now()
        invoice = Invoice.objects.create(
            tenant=tenant,
            period_start=draft.period_start,
            period_end=draft.period_end,
            status=Invoice.Status.OPEN,
            currency=draft.currency,
            subtotal=draft.subtotal,
            total=draft.total,
            pricing=draft.pricing,
            finalized_at=now,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                position=position,
                kind=line.kind,
                meter=line.meter,
                price_tier=line.price_tier,
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                amount=line.amount,
                adjusts=line.adjusts,
            )
            for position, line in enumerate(draft.lines, start=1)
        )
        adjusted = {line.adjusts.pk for line in draft.lines if line.adjusts is not None}
        PendingAdjustment.objects.filter(tenant=tenant, invoice_id__in=adjusted).delete()
        event_record(tenant_id=tenant.pk, type="invoice.finalized", obj=InvoiceOutput(invoice).data)
        transaction.on_commit(lambda: _after_finalize(invoice.pk))
    return invoice


def _after_finalize(invoice_id: str) -> None:
    from celery import current_app

    from billing.stripe_sync import stripe_enabled

    if stripe_enabled():  # by name: billing.tasks imports this module's callers
        current_app.send_task("billing.tasks.sync_invoice_to_stripe", (invoice_id,))


def last_closable_period(now: datetime, grace_seconds: int) -> datetime:
    """The latest period that may be closed now: last month once the grace period has passed
    (until then, the month before)."""
    current = month_start(now)
    if (now - current).total_seconds() < grace_seconds:
        current = month_start(current - timedelta(days=1))
    return month_start(current - timedelta(days=1))


def periods_to_close(tenant, now: datetime, grace_seconds: int) -> list[datetime]:
    """Every closable period since the tenant's first month that has no invoice yet (so a
    closing run missed during an outage is caught up)."""
    last = last_closable_period(now, grace_seconds)
    period = month_start(tenant.created_at)
    done = set(Invoice.objects.filter(tenant=tenant).values_list("period_start", flat=True))
    periods = []
    while period <= last:
        if period not in done:
            periods.append(period)
        period = next_month(period)
    return periods
