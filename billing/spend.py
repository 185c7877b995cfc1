"""Spend limits: the month-to-date charges that stop new work, and alerts on the way there.

`spend_check` runs on the hot paths (every prediction, every new job), so it reads a
per-process cache (MAAS_SPEND_CACHE_SECONDS) of the SpendStatus row that each rollup refreshes
for the tenants whose usage it added. Recorded usage reaches the check within the rollup
interval plus the cache lifetime (5 s + 5 s by default). The limit itself is read from the
tenant on every check, so raising or removing it takes effect at once.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.invoicing import compute_invoice
from billing.models import SpendAlert, SpendStatus
from billing.rollups import month_start
from maas.errors import SpendLimitReached

log = logging.getLogger("maas.billing.spend")

ALERT_THRESHOLDS = (50, 80, 100)
_cache: dict[str, tuple[float, datetime, Decimal]] = {}  # tenant id -> (expiry, period, amount)


@dataclass(frozen=True, slots=True)
class SpendCheck:
    allowed: bool
    month_to_date: Decimal
    spend_limit: Decimal | None


def limit_reached(amount: Decimal, spend_limit: Decimal | None) -> bool:
    # A limit of 0.00 means "nothing beyond the allowances": reached at the first cent.
    return spend_limit is not None and amount > 0 and amount >= spend_limit


def month_to_date(tenant) -> Decimal:
    now = time.monotonic()
    period = month_start(timezone.now())
    cached = _cache.get(tenant.pk)
    if cached is not None and cached[0] > now and cached[1] == period:
        return cached[2]
    status = SpendStatus.objects.filter(tenant_id=tenant.pk).values_list("period_start", "amount")
    row = status.first()
    amount = row[1] if row is not None and row[0] == period else Decimal("0.00")
    _cache[tenant.pk] = (now + settings.MAAS_SPEND_CACHE_SECONDS, period, amount)
    return amount


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
    amount = compute_invoice(tenant, period).total
    SpendStatus.objects.update_or_create(
        tenant=tenant, defaults={"period_start": period, "amount": amount}
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
