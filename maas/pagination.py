"""Cursor pagination for every list (API.md "Lists"): newest first, `limit` and `cursor` in,
`{"data": [...], "next_cursor": str | null}` out.

The cursor is the (created_at, id) of the last item served (or the view's other order field),
so pages stay stable while items are added, and a page costs an index range scan whatever its
depth (no OFFSET).
"""

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from maas.errors import InvalidRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def page_limit(request: HttpRequest) -> int:
    raw = request.GET.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(
            f"limit must be a whole number from 1 to {MAX_LIMIT}; got {raw!r}.", param="limit"
        ) from None
    return min(max(value, 1), MAX_LIMIT)


def encode_cursor(item: Model, order_field: str = "created_at") -> str:
    raw = orjson.dumps([getattr(item, order_field).isoformat(), item.pk])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = orjson.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(value), str(pk)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidRequest(
            "cursor is not one this API gave out; pass the next_cursor of the previous page.",
            param="cursor",
        ) from None


def paginate(
    request: HttpRequest,
    queryset: QuerySet,
    serialize: Callable[[Any], dict[str, Any]],
    order_field: str = "created_at",
) -> dict[str, Any]:
    """One page of `queryset` as the list body: newest first by `order_field` (a datetime),
    then by pk, which must be unique."""
    limit = page_limit(request)
    queryset = queryset.order_by(f"-{order_field}", "-pk")
    cursor = request.GET.get("cursor")
    if cursor:
        value, pk = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(**{f"{order_field}__lt": value}) | Q(**{order_field: value, "pk__lt": pk})
        )
    items = list(queryset[: limit + 1])
    has_more = len(items) > limit
    items = items[:limit]
    return {
        "data": [serialize(item) for item in items],
        "next_cursor": encode_cursor(items[-1], order_field) if has_more else None,
    }
