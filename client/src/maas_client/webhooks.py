"""Checking that a webhook came from maas (API.md "Webhooks and events"; the Standard Webhooks
signature scheme): `verify(body, headers, secret)` answers the event, or raises
WebhookVerificationError on a bad signature or a timestamp more than `tolerance` seconds off.

    event = maas_client.webhooks.verify(request.body, request.headers, "whsec_...")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from .errors import WebhookVerificationError

PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


def sign(secret: str, message_id: str, timestamp: int, body: bytes | str) -> str:
    """The `webhook-signature` value maas sends: `v1,` + base64 HMAC-SHA256."""
    payload = body.encode() if isinstance(body, str) else body
    signed = f"{message_id}.{timestamp}.".encode() + payload
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The verified event (`{"id", "type", "created_at", "data": {"object": ...}}`). Pass the
    body exactly as received (bytes), before any JSON parsing."""
    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not message_id or not stamp or not signatures:
        raise WebhookVerificationError(
            "Missing webhook-id, webhook-timestamp or webhook-signature header."
        )
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError(
            f"webhook-timestamp {stamp!r} is not Unix seconds."
        ) from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp is {int(current - timestamp)} s off (more than {int(tolerance)} s):"
            " a replay, or a clock that is wrong."
        )
    expected = sign(secret, message_id, timestamp, body).split(",", 1)[1]
    # The header may hold several space-separated signatures (a secret being rotated).
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(body)
    raise WebhookVerificationError("No webhook-signature matches this body and secret.")


def _key(secret: str) -> bytes:
    raw = secret[len(PREFIX) :] if secret.startswith(PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise WebhookVerificationError("The secret is not a whsec_ secret maas gave you.") from None
