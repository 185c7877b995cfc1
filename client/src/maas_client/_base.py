"""What the generated types stand on: typed objects parsed from the API's JSON, and the
operation table's row."""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from functools import cache
from typing import Any, NamedTuple


class Operation(NamedTuple):
    """One operation of docs/openapi.json: how to call it and what it answers."""

    method: str
    path: str
    status: int
    response: str | None  # the answer's schema name (None: a file or no body)
    media_type: str | None
    query: tuple[str, ...]


class ApiObject:
    """Base of every generated type. Fields are the schema's; `to_dict()` is the JSON exactly as
    the server sent it (keys a newer server adds included), which `maas --json` prints."""

    _raw: dict[str, Any]
    _client: Any

    @classmethod
    def from_json(cls, data: dict[str, Any], client: Any = None) -> typing.Self:
        hints = _hints(cls)
        values = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            key = field.name[:-1] if field.name.endswith("_") else field.name
            if key in data:
                values[field.name] = _convert(hints[field.name], data[key], client)
        made = cls(**values)
        object.__setattr__(made, "_raw", data)
        object.__setattr__(made, "_client", client)
        return made

    def to_dict(self) -> dict[str, Any]:
        return self._raw

    def __getitem__(self, key: str) -> Any:
        return self._raw[key]


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


@cache
def _holds_objects(hint: Any) -> bool:
    """Whether a field's type has an ApiObject anywhere inside; one that has not (numbers, lists
    of floats: a predict answer's probabilities) is kept as parsed, without a walk per value."""
    if isinstance(hint, type) and issubclass(hint, ApiObject):
        return True
    return any(_holds_objects(arg) for arg in typing.get_args(hint))


def _convert(hint: Any, value: Any, client: Any) -> Any:
    if value is None or not _holds_objects(hint):
        return value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _convert(options[0], value, client) if len(options) == 1 else value
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(hint)
        return [_convert(item, v, client) for v in value]
    if origin is dict and isinstance(value, dict):
        _, item = typing.get_args(hint)
        return {k: _convert(item, v, client) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, ApiObject) and isinstance(value, dict):
        return hint.from_json(value, client)
    return value
