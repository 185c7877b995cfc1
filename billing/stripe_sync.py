"""Pushing finalized invoices to Stripe with the official SDK (only when STRIPE_API_KEY is set).

Idempotent end to end, within what both Stripe and localstripe accept:
- every create carries an `idempotency_key` derived from our ids (Stripe replays the first
  answer), and every object carries our id in `metadata` (for an invoice, also its lines);
- each Stripe id is saved on our row right after it is created, and before creating anything
  we look for an object with our metadata (localstripe ignores idempotency keys, and a crash
  can fall between Stripe's answer and our save);
so running the sync again creates nothing twice. Stripe invoices need a customer with a
subscription in localstripe; a $0 monthly plan provides it and costs nothing on real Stripe.
Amounts go as integer cents with `amount` + `currency` (localstripe refuses unit_amount).
"""

import logging
from decimal import Decimal

import stripe
from django.conf import settings
from django.db import transaction

from billing.models import BillingAccount, Invoice, InvoiceLine

log = logging.getLogger("maas.billing.stripe")

ZERO_PLAN_ID = "maas-usage-zero"


def stripe_enabled() -> bool:
    return bool(settings.STRIPE_API_KEY)


def _client() -> stripe.StripeClient:
    kwargs = {}
    if settings.STRIPE_API_BASE:
        kwargs["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(settings.STRIPE_API_KEY, max_network_retries=2, **kwargs)


def _metadata(obj) -> dict:
    metadata = getattr(obj, "metadata", None)
    return metadata.to_dict() if metadata else {}


def _is_ours(stripe_invoice, invoice_id: str) -> bool:
    """Our invoice id is in the invoice's metadata (Stripe) or its lines' (localstripe drops
    invoice metadata but keeps that of the items we created)."""
    if _metadata(stripe_invoice).get("maas_invoice_id") == invoice_id:
        return True
    lines = stripe_invoice.to_dict().get("lines", {}).get("data", [])
    return any((line.get("metadata") or {}).get("maas_invoice_id") == invoice_id for line in lines)


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _ensure_customer(client, account: BillingAccount) -> str:
    if account.stripe_customer_id:
        return account.stripe_customer_id
    tenant = account.tenant
    params = {"name": tenant.name, "metadata": {"maas_tenant_id": tenant.pk}}
    if account.billing_email or tenant.email:
        params["email"] = account.billing_email or tenant.email
    customer = client.v1.customers.create(
        params=params, options={"idempotency_key": f"maas-customer-{tenant.pk}"}
    )
    BillingAccount.objects.filter(pk=account.pk).update(stripe_customer_id=customer.id)
    account.stripe_customer_id = customer.id
    return customer.id


def _ensure_subscription(client, account: BillingAccount) -> None:
    if account.stripe_subscription_id:
        return
    try:
        client.v1.plans.retrieve(ZERO_PLAN_ID)
    except stripe.InvalidRequestError:
        product = client.v1.products.create(
            params={"name": "maas usage", "type": "service"},
            options={"idempotency_key": "maas-product-usage"},
        )
        client.v1.plans.create(
            params={
                "id": ZERO_PLAN_ID,
                "product": product.id,
                "amount": 0,
                "currency": "usd",
                "interval": "month",
            },
            options={"idempotency_key": "maas-plan-zero"},
        )
    subscription = client.v1.subscriptions.create(
        params={"customer": account.stripe_customer_id, "items": [{"plan": ZERO_PLAN_ID}]},
        options={"idempotency_key": f"maas-subscription-{account.tenant_id}"},
    )
    BillingAccount.objects.filter(pk=account.pk).update(stripe_subscription_id=subscription.id)
    account.stripe_subscription_id = subscription.id


def invoice_push_to_stripe(*, invoice_id: str) -> str | None:
    """Creates the Stripe invoice of a finalized invoice; returns its Stripe id (None for an
    invoice with nothing to charge)."""
    invoice = Invoice.objects.select_related("tenant").get(pk=invoice_id)
    if invoice.stripe_invoice_id or invoice.finalized_at is None:
        return invoice.stripe_invoice_id or None
    lines = [line for line in invoice.lines.all() if _cents(line.amount) > 0]
    if not lines:
        return None
    client = _client()
    account, _ = BillingAccount.objects.get_or_create(tenant=invoice.tenant)
    customer_id = _ensure_customer(client, account)
    _ensure_subscription(client, account)

    existing = client.v1.invoices.list(params={"customer": customer_id})
    found = next((i for i in existing.data if _is_ours(i, invoice.pk)), None)
    if found is None:
        pending = {
            _metadata(item).get("maas_line_id"): item.id
            for item in client.v1.invoice_items.list(params={"customer": customer_id}).data
        }
        for line in lines:
            _push_line(client, invoice, line, customer_id, pending)
        found = client.v1.invoices.create(
            params={
                "customer": customer_id,
                "description": f"maas usage {invoice.period_start:%Y-%m}",
                "metadata": {"maas_invoice_id": invoice.pk},
            },
            options={"idempotency_key": f"maas-invoice-{invoice.pk}"},
        )
    with transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(stripe_invoice_id=found.id)
    log.info("invoice %s pushed to Stripe as %s", invoice.pk, found.id)
    return found.id


def _push_line(client, invoice: Invoice, line: InvoiceLine, customer_id: str, pending) -> None:
    if line.stripe_invoice_item_id:
        return
    line_key = f"{invoice.pk}-{line.position}"
    item_id = pending.get(line_key)
    if item_id is None:
        item = client.v1.invoice_items.create(
            params={
                "customer": customer_id,
                "amount": _cents(line.amount),
                "currency": invoice.currency,
                "description": f"{line.description}: {line.quantity.normalize():f}",
                "metadata": {"maas_invoice_id": invoice.pk, "maas_line_id": line_key},
            },
            options={"idempotency_key": f"maas-line-{line_key}"},
        )
        item_id = item.id
    InvoiceLine.objects.filter(pk=line.pk).update(stripe_invoice_item_id=item_id)
