"""Cursor pagination for every list (API.md "Lists"): newest first, `limit` and `cursor` in,
`{"data": [...], "next_cursor": str | null}` out.

The cursor is the (created_at, id) of the last item served (or the view's other order field),
so pages stay stable while items are added, and a page costs an index range scan whatever its
depth (no OFFSET).
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from maas.errors import InvalidRequest
from maas.ids import looks_like_id

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def query_value(request: HttpRequest, name: str) -> str | None:
    """A query parameter given at most once (None when absent); twice is 400, since which one
    was meant is a guess."""
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise InvalidRequest(f"Give {name} once; it was given {len(values)} times.", param=name)
    return values[0] if values else None


def page_limit(request: HttpRequest) -> int:
    raw = query_value(request, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"-?[0-9]+", raw):
        raise InvalidRequest(
            f"limit must be a whole number from 1 to {MAX_LIMIT}; got {raw!r}.", param="limit"
        )
    return min(max(int(raw), 1), MAX_LIMIT)


def encode_cursor(item: Model, order_field: str = "created_at") -> str:
    raw = orjson.dumps([getattr(item, order_field).isoformat(), item.pk])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = orjson.loads(base64.urlsafe_b64decode(padded))
        # Our ids, or integer keys (events): anything else, a NUL say, would reach PostgreSQL
        # as an error, a 500.
        if not (type(pk) is int or (isinstance(pk, str) and looks_like_id(pk))):
            raise ValueError("not a key of ours")
        return datetime.fromisoformat(value), str(pk)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidRequest(
            "cursor is not one this API gave out; pass the next_cursor of the previous page.",
            param="cursor",
        ) from None


@dataclass(frozen=True, slots=True)
class Page:
    data: list[Any]
    next_cursor: str | None


def paginate(request: HttpRequest, queryset: QuerySet, order_field: str = "created_at") -> Page:
    """One page of `queryset`: newest first by `order_field` (a datetime), then by pk, which
    must be unique. Render it with the list envelope (maas.serializers.list_of)."""
    limit = page_limit(request)
    queryset = queryset.order_by(f"-{order_field}", "-pk")
    cursor = query_value(request, "cursor")
    if cursor:
        value, pk = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(**{f"{order_field}__lt": value}) | Q(**{order_field: value, "pk__lt": pk})
        )
    items = list(queryset[: limit + 1])
    has_more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor(items[-1], order_field) if has_more else None)
