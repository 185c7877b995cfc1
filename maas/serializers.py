"""Serializer helpers shared by every app's API."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.negotiation import BaseContentNegotiation


def iso_utc(value: datetime | None) -> str | None:
    """A timestamp as the API writes them: ISO 8601, UTC, with "Z"."""
    return value.isoformat().replace("+00:00", "Z") if value else None


class StrictSerializer(serializers.Serializer):
    """An input serializer that names unknown fields instead of silently dropping them, so a
    typo ("scope" for "scopes") is a 400 that says what to fix, not a request that half works."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                accepted = ", ".join(sorted(self.fields)) or "none"
                raise serializers.ValidationError(
                    {
                        unknown[0]: [
                            ErrorDetail(
                                f"Unknown parameter. Accepted parameters: {accepted}.",
                                code="unknown",
                            )
                        ]
                    }
                )
        return super().to_internal_value(data)


class FixedFormatNegotiation(BaseContentNegotiation):
    """For downloads (CSV, JSON Lines): the view answers its own format whatever Accept says,
    and its errors render as JSON (the first renderer)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None
