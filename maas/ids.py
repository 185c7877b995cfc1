"""Prefixed random ids (`ten_`, `key_`, `ds_`, ...): opaque, unguessable, never sequential."""

import re
import secrets
import string
from functools import partial

from django.db import models
from django.urls import register_converter

_ALPHABET = string.ascii_letters + string.digits
ID_RANDOM_CHARS = 24  # 62**24 ~ 2**143: collisions and guessing are out of reach


def new_id(prefix: str) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(ID_RANDOM_CHARS))


class PrefixedIdField(models.CharField):
    """Primary key holding `<prefix>_<24 random base62 chars>`, generated on creation."""

    def __init__(self, *args, prefix: str, **kwargs):
        self.prefix = prefix
        kwargs.setdefault("max_length", len(prefix) + 1 + ID_RANDOM_CHARS)
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("editable", False)
        kwargs["default"] = partial(new_id, prefix)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["prefix"] = self.prefix
        kwargs.pop("default", None)
        return name, path, args, kwargs


# What any id in a path or a cursor may look like: letters, digits and "_" (ours are
# `<prefix>_<24 base62>`). Anything else cannot name an object, and must not reach a query:
# PostgreSQL refuses a NUL in a string with an error, which was a 500.
ID_PATTERN = r"[A-Za-z0-9_]{1,64}"
_ID = re.compile(ID_PATTERN)


def looks_like_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None


class ObjectIdConverter:
    """`<oid:id>` in the apps' URLs: a path whose id cannot be one is no route (404)."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ObjectIdConverter, "oid")
