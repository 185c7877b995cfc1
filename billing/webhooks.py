"""`POST /webhooks/stripe`: Stripe's events about our invoices.

Invariant: only events signed with STRIPE_WEBHOOK_SECRET are acted on (the signature covers
the raw body and a timestamp, checked within 300 s, so a captured event cannot be replayed
later); each event id is handled once; unknown event types and unknown invoices are accepted
and ignored, so Stripe stops retrying them.
"""

import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.models import Invoice, StripeEvent
from maas.errors import ErrorType, error_http_response

log = logging.getLogger("maas.billing.webhooks")

SIGNATURE_TOLERANCE_SECONDS = 300


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return error_http_response(
            404, ErrorType.NOT_FOUND, "route_not_found", "Stripe webhooks are not configured."
        )
    try:
        event = stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        return error_http_response(
            400,
            ErrorType.INVALID_REQUEST,
            "invalid_signature",
            f"The Stripe-Signature header does not verify this body ({exc}).",
        )
    try:
        with transaction.atomic():
            StripeEvent.objects.create(id=event.id, type=event.type)
            _apply(event)
    except IntegrityError:
        return JsonResponse({"received": True, "duplicate": True})
    return JsonResponse({"received": True})


def _apply(event) -> None:
    obj = event.data.object.to_dict()
    if not event.type.startswith("invoice."):
        return
    ours = (obj.get("metadata") or {}).get("maas_invoice_id")
    invoices = Invoice.objects.filter(stripe_invoice_id=obj.get("id"))
    if ours:
        invoices = Invoice.objects.filter(pk=ours)
    now = timezone.now()
    if event.type in ("invoice.paid", "invoice.payment_succeeded"):
        invoices.exclude(status=Invoice.Status.VOID).update(status=Invoice.Status.PAID, paid_at=now)
    elif event.type == "invoice.payment_failed":
        invoices.update(payment_failed_at=now)
    elif event.type == "invoice.voided":
        invoices.update(status=Invoice.Status.VOID)
