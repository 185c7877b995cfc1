"""The meters: what maas measures and bills (DESIGN.md "Pricing model"). Defined in code.

Quantities are stored as integers in each meter's minor unit (`scale` decimal places: compute
seconds to the millisecond, everything else whole units), so sums in SQL are exact on SQLite and
PostgreSQL alike and a Decimal never passes through a float.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

DIMENSIONS = ("model", "algorithm", "price_tier", "job", "api_key")
PRICE_TIERS = ("light", "standard", "heavy")


@dataclass(frozen=True)
class Meter:
    code: str
    unit: str
    description: str
    scale: int  # decimal places kept
    dimensions: tuple[str, ...]
    aggregation: str = "sum"

    def to_minor(self, quantity: Decimal | int | float | str) -> int:
        """The stored integer for a quantity; compute time rounds half-even to the millisecond,
        counts must be whole. Negative quantities are refused (corrections are invoice lines)."""
        if type(quantity) is int and quantity >= 0:  # a count, as the predict path sends
            return quantity * 10**self.scale
        try:
            value = Decimal(str(quantity)) if isinstance(quantity, float) else Decimal(quantity)
        except (InvalidOperation, TypeError, ValueError):
            raise ValueError(f"{self.code}: quantity {quantity!r} is not a number") from None
        if not value.is_finite() or value < 0:
            raise ValueError(f"{self.code}: quantity must be finite and >= 0, got {quantity!r}")
        minor = value.scaleb(self.scale)
        if self.scale == 0 and minor != minor.to_integral_value():
            raise ValueError(f"{self.code}: quantity must be a whole number, got {quantity!r}")
        return int(minor.to_integral_value(rounding=ROUND_HALF_EVEN))

    def from_minor(self, minor: int) -> Decimal:
        return Decimal(minor).scaleb(-self.scale)


METERS: dict[str, Meter] = {
    m.code: m
    for m in [
        Meter(
            "compute.cpu_seconds",
            "second",
            "CPU worker time (training, batch inference)",
            3,
            ("model", "algorithm", "job"),
        ),
        Meter(
            "compute.gpu_seconds",
            "second",
            "GPU worker time (training)",
            3,
            ("model", "algorithm", "job"),
        ),
        Meter("data.ingested_bytes", "byte", "Bytes uploaded in datasets", 0, ("job",)),
        Meter(
            "data.processed_rows",
            "row",
            "Rows read by training and batch jobs",
            0,
            ("model", "algorithm", "job"),
        ),
        Meter(
            "predictions",
            "prediction",
            "Rows predicted, priced by the model's price tier",
            0,
            ("model", "price_tier", "api_key", "job"),
        ),
        Meter(
            "explanations",
            "row",
            "Rows explained (POST /v1/models/{id}/explain)",
            0,
            ("model", "api_key"),
        ),
    ]
}
METER_ORDER = list(METERS)


def get_meter(code: str) -> Meter:
    try:
        return METERS[code]
    except KeyError:
        raise ValueError(f"unknown meter {code!r}; meters are {', '.join(METERS)}") from None
