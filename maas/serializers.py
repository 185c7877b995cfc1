"""Serializer helpers shared by every app's API."""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail


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
