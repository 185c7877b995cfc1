"""Spend limits: the month-to-date charges that stop new work, and alerts on the way there.

`spend_check` runs on the hot paths (every prediction, every new job), so it reads a
per-process copy (refreshed every MAAS_SPEND_CACHE_SECONDS) of the SpendStatus row that each
rollup writes for the tenants whose usage it added: the month's charges and its quantity per
invoice line. Recorded usage reaches that row within the rollup interval (5 s), so on its own
the copy would let every process admit ~10 s of work past a cap. So each process also adds the
price of what it admits itself, at once (`spend_admitted`, called by the admission pipeline when
a request's usage is recorded): the next request of that process already sees it. The price is
the invoice line's amount after the usage minus before, each rounded to cents as the invoice
rounds them, so allowances and tiers count as they will be billed. What the process added
outlives a refresh that does not show it yet (the larger of the two is kept for
MAAS_SPEND_LOCAL_SECONDS). Other processes' admissions still arrive with the rollup: the
bound this gives is in docs/billing.md. The limit itself is read from the tenant on every check,
so raising or removing it takes effect at once.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.invoicing import compute_invoice, invoice_line_key, price_for, pricing_for
from billing.meters import METERS
from billing.models import InvoiceLine, SpendAlert, SpendStatus
from billing.pricing import MeterPricing, charge, round_money
from billing.rollups import month_start
from billing.usage import PreparedUsage
from maas.errors import SpendLimitReached

log = logging.getLogger("maas.billing.spend")

ALERT_THRESHOLDS = (50, 80, 100)
# How long this process's own admissions are trusted over a SpendStatus that does not show
# them: many rollup intervals, and short enough that a price change shows within a minute.
SPEND_LOCAL_SECONDS = 60.0
# How long a process keeps a tenant's prices to price its admissions with.
PRICING_SECONDS = 60.0
ZERO = Decimal(0)

Line = tuple[str, str]  # (meter, price_tier), as invoicing.invoice_line_key makes them


@dataclass(slots=True)
class _Known:
    """What this process knows of a tenant's charges this period."""

    expiry: float
    period: datetime
    amount: Decimal
    quantities: dict[Line, Decimal]
    local_until: float = 0.0  # own admissions are kept over the status until then
    pricing: dict[str, MeterPricing] | None = field(default=None)
    pricing_until: float = 0.0


_cache: dict[str, _Known] = {}  # tenant id -> what this process knows


@dataclass(frozen=True, slots=True)
class SpendCheck:
    allowed: bool
    month_to_date: Decimal
    spend_limit: Decimal | None


def limit_reached(amount: Decimal, spend_limit: Decimal | None) -> bool:
    # A limit of 0.00 means "nothing beyond the allowances": reached at the first cent.
    return spend_limit is not None and amount > 0 and amount >= spend_limit


def _lines_to_json(quantities: dict[Line, Decimal]) -> dict[str, str]:
    return {f"{meter}|{tier}": str(q) for (meter, tier), q in quantities.items()}


def _lines_from_json(stored: dict[str, str]) -> dict[Line, Decimal]:
    return {tuple(key.split("|", 1)): Decimal(q) for key, q in (stored or {}).items()}


def _known(tenant) -> _Known:
    now = time.monotonic()
    period = month_start(timezone.now())
    known = _cache.get(tenant.pk)
    if known is not None and known.expiry > now and known.period == period:
        return known
    status = SpendStatus.objects.filter(tenant_id=tenant.pk)
    row = status.values_list("period_start", "amount", "quantities").first()
    current = row is not None and row[0] == period
    fresh = _Known(
        expiry=now + settings.MAAS_SPEND_CACHE_SECONDS,
        period=period,
        amount=row[1] if current else Decimal("0.00"),
        quantities=_lines_from_json(row[2]) if current else {},
    )
    if known is not None and known.period == period:
        if known.local_until > now:  # admitted here, maybe not rolled up yet: keep it
            fresh.amount = max(fresh.amount, known.amount)
            for line, quantity in known.quantities.items():
                fresh.quantities[line] = max(fresh.quantities.get(line, ZERO), quantity)
            fresh.local_until = known.local_until
        fresh.pricing, fresh.pricing_until = known.pricing, known.pricing_until
    _cache[tenant.pk] = fresh
    return fresh


def month_to_date(tenant) -> Decimal:
    return _known(tenant).amount


def spend_admitted(tenant, usage: PreparedUsage) -> None:
    """Adds the price of an admitted request's usage to this process's month-to-date charges,
    so that its next spend check counts it. Only for tenants with a limit: without one there is
    nothing to bind, and the hot path pays nothing. A request whose transaction then rolls back
    is counted anyway (rare; the count is dropped after SPEND_LOCAL_SECONDS)."""
    if tenant.spend_limit is None:
        return
    known = _known(tenant)
    now = time.monotonic()
    if known.pricing is None or known.pricing_until <= now:
        known.pricing, known.pricing_until = pricing_for(tenant)[1], now + PRICING_SECONDS
    line = invoice_line_key(usage.meter, usage.dims)
    price = price_for(known.pricing, *line)
    before = known.quantities.get(line, ZERO)
    after = before + METERS[usage.meter].from_minor(usage.minor)
    known.amount += round_money(charge(price, after)) - round_money(charge(price, before))
    known.quantities[line] = after
    known.local_until = now + SPEND_LOCAL_SECONDS


def spend_cache_forget(tenant_id: str) -> None:
    """Drops this process's copy of the tenant's month-to-date charges."""
    _cache.pop(tenant_id, None)


def spend_check(tenant) -> SpendCheck:
    amount = month_to_date(tenant)
    return SpendCheck(
        allowed=not limit_reached(amount, tenant.spend_limit),
        month_to_date=amount,
        spend_limit=tenant.spend_limit,
    )


def spend_require(tenant) -> None:
    """Raises 402 spend_limit_reached when the tenant's cap is reached."""
    check = spend_check(tenant)
    if not check.allowed:
        raise SpendLimitReached(
            f"This month's charges ({check.month_to_date} {tenant.currency.upper()}) have reached "
            f"your spend limit of {check.spend_limit}. Raise or remove it with PATCH /v1/tenant "
            '{"spend_limit": ...} to continue.',
            param=None,
        )


def spend_refresh(tenant) -> Decimal:
    """Recomputes the tenant's month-to-date charges, stores them and raises due alerts."""
    period = month_start(timezone.now())
    draft = compute_invoice(tenant, period)
    amount = draft.total
    quantities = {
        (line.meter, line.price_tier): line.quantity
        for line in draft.lines
        if line.kind == InvoiceLine.Kind.USAGE
    }
    SpendStatus.objects.update_or_create(
        tenant=tenant,
        defaults={
            "period_start": period,
            "amount": amount,
            "quantities": _lines_to_json(quantities),
        },
    )
    spend_cache_forget(tenant.pk)
    _raise_alerts(tenant, period, amount)
    return amount


def _raise_alerts(tenant, period, amount: Decimal) -> None:
    limit = tenant.spend_limit
    if limit is None or amount <= 0:
        return
    percent = Decimal(100) if limit == 0 else amount * 100 / limit
    for threshold in ALERT_THRESHOLDS:
        if percent < threshold:
            break
        try:
            with transaction.atomic():
                alert = SpendAlert.objects.create(
                    tenant=tenant,
                    period_start=period,
                    threshold=threshold,
                    amount=amount,
                    spend_limit=limit,
                )
        except IntegrityError:
            continue  # raised once per period already
        _email_alert(tenant, alert)


def _email_alert(tenant, alert: SpendAlert) -> None:
    from billing.models import BillingAccount

    account = BillingAccount.objects.filter(tenant=tenant).first()
    to = (account.billing_email if account else "") or tenant.email
    if not to:
        return
    subject = f"maas: {alert.threshold}% of your monthly spend limit used"
    body = (
        f"{tenant.name} has used {alert.amount} of its {alert.spend_limit} "
        f"{tenant.currency.upper()} spend limit for {alert.period_start:%B %Y}."
    )
    if alert.threshold >= 100:
        body += " New predictions and jobs are refused until the limit is raised."
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception:
        log.exception("could not email spend alert %s", alert.pk)
        return
    SpendAlert.objects.filter(pk=alert.pk).update(emailed_to=to)
