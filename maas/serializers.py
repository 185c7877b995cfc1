"""Serializer pieces every app's API uses.

Input fields here are strict: a value of the wrong JSON type is refused, never coerced (DRF's own
CharField takes 5 as "5", IntegerField takes "5" as 5). The OpenAPI document promises the types,
and a client that sends a number for a name has a bug we should tell it about.
"""

import math
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.negotiation import DefaultContentNegotiation


def iso_utc(value: datetime | None) -> str | None:
    """A timestamp as the API writes them: ISO 8601, UTC, with "Z"."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def decimal_string(value: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros: "0.0001", "10", "0"."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


class StrictSerializer(serializers.Serializer):
    """An input serializer that names unknown fields instead of silently dropping them, so a
    typo ("scope" for "scopes") is a 400 that says what to fix, not a request that half works;
    and that refuses a body that is not a JSON object."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": [ErrorDetail("The body must be a JSON object.", "invalid")]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            accepted = ", ".join(sorted(self.fields)) or "none"
            raise serializers.ValidationError(
                {
                    unknown[0]: [
                        ErrorDetail(
                            f"Unknown parameter. Accepted parameters: {accepted}.", code="unknown"
                        )
                    ]
                }
            )
        return super().to_internal_value(data)


def _wrong_type(field: serializers.Field, expected: str) -> serializers.ValidationError:
    return serializers.ValidationError(ErrorDetail(f"Must be {expected}.", code="invalid"))


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise _wrong_type(self, "a string")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise _wrong_type(self, "a whole number")
        if isinstance(data, float) and not data.is_integer():
            raise _wrong_type(self, "a whole number")
        return super().to_internal_value(int(data))


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            raise _wrong_type(self, "a number")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            raise _wrong_type(self, "true or false")
        return data


MONEY_PATTERN = r"^\d{1,12}(\.\d{1,2})?$"


@extend_schema_field({"type": "string", "pattern": MONEY_PATTERN, "example": "25.00"})
class MoneyInputField(serializers.DecimalField):
    """An amount of money in: a decimal string ("25", "25.00"), at least 0, at most two places,
    never a JSON number (which clients parse as binary floating point)."""

    default_error_messages = {
        "invalid": 'Must be an amount as a decimal string, such as "25.00" (two places at most).'
    }

    def __init__(self, **kwargs: Any):
        super().__init__(max_digits=14, decimal_places=2, min_value=Decimal(0), **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "":  # DRF would take it for null
            self.fail("invalid")
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not re.fullmatch(MONEY_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "example": "0.0001"})
class DecimalOutput(serializers.Field):
    """An exact quantity out, as a decimal string without trailing zeros ("0.0001", "10")."""

    def to_representation(self, value: Decimal) -> str:
        return decimal_string(Decimal(value))


class ConstantField(serializers.Field):
    """A field whose value is the same for every object (the `object` type names); the schema
    documents it as a one-value enum (maas.schema)."""

    def __init__(self, value: str, **kwargs: Any):
        self.value = value
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, obj: Any) -> str:
        return self.value


class JobErrorOutput(serializers.Serializer):
    """Why a job failed (maas.jobs): a stable code and a message for a person."""

    code = serializers.CharField()
    message = serializers.CharField()


def job_error(job: Any) -> dict[str, str] | None:
    if not job.error_code:
        return None
    return JobErrorOutput({"code": job.error_code, "message": job.error_message}).data


@cache
def list_of(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The list envelope of `item` (API.md "Lists"): `{"data": [...], "next_cursor": ...}`;
    `next_cursor` is null on the last page, the only end-of-list signal."""
    name = item.__name__.removesuffix("Output") + "List"
    return type(
        name,
        (serializers.Serializer,),
        {
            "data": item(many=True),
            "next_cursor": serializers.CharField(
                allow_null=True, help_text="Pass as `cursor` for the next page; null at the end."
            ),
            "__module__": item.__module__,
            "__doc__": f"A page of {item.__name__.removesuffix('Output')} objects, newest first.",
        },
    )


class FixedFormatNegotiation(DefaultContentNegotiation):
    """Every endpoint answers its one format whatever `Accept` says (JSON, or a download's CSV or
    JSON Lines), and its errors render as JSON (the first renderer): no 406s."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
