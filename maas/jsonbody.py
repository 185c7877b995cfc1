"""JSON request bodies: one parser for every path, the DRF views and the predict hot path.

orjson parses (strict RFC 8259: no NaN or Infinity, no trailing commas; it refuses more than
1,024 levels itself). The body's size is capped before it is read (admission.body_size_check).
Nesting is capped at MAAS_MAX_JSON_DEPTH levels (32) for bodies that go on to code that
recurses: DRF's serializers, JSONField's `json.dumps` on the way to the database and our own
parameter checks would raise RecursionError (a 500) near Python's 1,000 frames. Checking depth
walks the parsed containers: ~2 µs for a 1 KB body, but ~150 µs for a 100-row prediction
(as long as parsing it), so the predict path passes `max_depth=None`: its own validation takes
exactly object → `inputs` list → rows and refuses a container anywhere below a row, without
recursing.
"""

from typing import Any

import orjson

from maas.errors import InvalidRequest

_CONTAINERS = (dict, list)


def json_body_load(raw: bytes, *, max_depth: int | None) -> Any:
    """The body's value, or 400 `invalid_body` saying what is wrong with it."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON ({exc}).", code="invalid_body"
        ) from None
    if max_depth is not None and not json_depth_within(value, max_depth):
        raise InvalidRequest(
            f"The request body nests arrays and objects more than {max_depth} levels deep; "
            "flatten it.",
            code="invalid_body",
        )
    return value


def json_depth_within(value: Any, max_depth: int) -> bool:
    """Whether no array or object in `value` is nested deeper than `max_depth` levels (the
    outermost is level 1). Iterative, so any depth is safe to check."""
    stack = [(value, 1)] if type(value) in _CONTAINERS else []
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return False
        for child in node.values() if type(node) is dict else node:
            if type(child) in _CONTAINERS:
                stack.append((child, depth + 1))
    return True
