"""Sending a delivery, signed per the Standard Webhooks specification, and retrying it.

Headers `webhook-id` (the event id, the same on every attempt: receivers dedupe by it),
`webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}" keyed with the secret's base64-decoded part after `whsec_`). Any 2xx
within 15 s acknowledges; redirects are not followed (a 3xx is a failure). Otherwise the
delivery is tried again after BACKOFF (with +-20 % jitter): 11 attempts over ~27 hours, then it
is `failed`. An endpoint that has failed every attempt for 3 days is disabled.

A worker sending a delivery leases it for LEASE seconds; if the worker dies, the lease runs out
and the dispatcher (beat, every 5 s) sends it again: at least once, never lost.
"""

import base64
import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.addresses import AddressRefused, addresses_allowed
from webhooks.models import WebhookDelivery, WebhookEndpoint

BACKOFF = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200]  # seconds before attempt n+2
TIMEOUT = 15
LEASE = settings.MAAS_WEBHOOK_LEASE_SECONDS
DISABLE_AFTER = timedelta(days=3)


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(signed).decode()


def event_body(event) -> bytes:
    return json.dumps(
        {
            "id": event.pk,
            "type": event.type,
            "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
            "data": event.data,
        },
        separators=(",", ":"),
    ).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as an HTTPError: a failed attempt


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """(HTTP status or None, error text)."""
    try:
        addresses_allowed(url)  # again at send time: DNS may have changed since
    except AddressRefused as exc:
        return None, str(exc)
    if not url.startswith(("http://", "https://")):  # checked on create; never file: or ftp:
        return None, "url must be http:// or https://"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


def delivery_attempt(delivery_id: str) -> None:
    """One attempt, if the delivery is pending, due and not held by another worker."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return
        if delivery.leased_until and delivery.leased_until > now:
            return
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return
        delivery.attempts += 1
        delivery.leased_until = now + timedelta(seconds=LEASE)
        delivery.save(update_fields=["attempts", "leased_until"])
    endpoint, event = delivery.endpoint, delivery.event
    body = event_body(event)
    stamp = int(time.time())
    status, error = _post(
        endpoint.url,
        body,
        {
            "content-type": "application/json",
            "user-agent": "maas-webhooks/1",
            "webhook-id": event.pk,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature(endpoint.secret, event.pk, stamp, body),
        },
    )
    _record(delivery.pk, status, error)


def _record(delivery_id: str, status: int | None, error: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        delivery.response_status, delivery.last_error = status, error
        delivery.leased_until = None
        if status is not None and 200 <= status < 300:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.next_attempt_at = None
            endpoint.failing_since = None
        else:
            endpoint.failing_since = endpoint.failing_since or now
            if endpoint.failing_since <= now - DISABLE_AFTER:
                endpoint.status = WebhookEndpoint.Status.DISABLED
            if delivery.attempts > len(BACKOFF) or endpoint.status != "enabled":
                delivery.status = WebhookDelivery.Status.FAILED
                delivery.next_attempt_at = None
            else:
                wait = BACKOFF[delivery.attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311
                delivery.next_attempt_at = now + timedelta(seconds=wait)
        delivery.save()
        endpoint.save(update_fields=["failing_since", "status"])


def deliveries_due(limit: int = 500) -> list[str]:
    """Pending deliveries whose time has come and that no live worker holds."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).exclude(leased_until__gt=now)
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
