"""Prefixed random ids (`ten_`, `key_`, `ds_`, ...): opaque, unguessable, never sequential."""

import secrets
import string
from functools import partial

from django.db import models

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
