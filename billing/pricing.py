"""How a month's quantity becomes money (API.md "Usage, pricing, invoices"). Pure functions.

For quantity q: subtract the allowance (not below 0); with no tiers, amount = q x unit_amount;
with graduated tiers, each tier charges its unit_amount for the part of q between the previous
tier's up_to (0 for the first) and its own (None = no end), plus its flat_amount if q reaches into
it. Amounts stay unrounded until a line is made; a line is rounded half-even to cents once.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any

from maas.serializers import decimal_string

CENT = Decimal("0.01")
ZERO = Decimal(0)
# Wide enough that quantity x 12-decimal prices never round before the one rounding per line.
_CONTEXT = Context(prec=60)


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None
    unit_amount: Decimal
    flat_amount: Decimal = ZERO


@dataclass(frozen=True)
class Price:
    unit_amount: Decimal
    allowance: Decimal = ZERO
    tiers: tuple[Tier, ...] = ()


@dataclass(frozen=True)
class MeterPricing:
    meter: str
    price: Price
    price_tiers: dict[str, Price] | None = field(default=None)

    def for_tier(self, price_tier: str | None) -> Price:
        if self.price_tiers and price_tier in self.price_tiers:
            return self.price_tiers[price_tier]
        return self.price


def charge(price: Price, quantity: Decimal) -> Decimal:
    """The unrounded amount for a month's quantity."""
    with localcontext(_CONTEXT):
        billable = max(quantity - price.allowance, ZERO)
        if not price.tiers:
            return billable * price.unit_amount
        total, lower = ZERO, ZERO
        for tier in price.tiers:
            if billable <= lower:
                break
            upper = billable if tier.up_to is None else min(billable, tier.up_to)
            total += (upper - lower) * tier.unit_amount + tier.flat_amount
            if tier.up_to is None or billable <= tier.up_to:
                break
            lower = tier.up_to
        return total


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def money_string(value: Decimal) -> str:
    return format(round_money(value), "f")


# --- (de)serialising prices: the JSON kept on price books and invoice snapshots -----------------


def _dec(value: Any, what: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except Exception:
        raise ValueError(f"{what} must be a decimal string, got {value!r}") from None
    if not result.is_finite() or result < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return result


def parse_tiers(raw: list[dict[str, Any]] | None, what: str = "tiers") -> tuple[Tier, ...]:
    tiers = []
    previous: Decimal | None = ZERO
    for index, item in enumerate(raw or []):
        label = f"{what}[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f"{label} must be an object with up_to, unit_amount, flat_amount")
        if previous is None:
            raise ValueError(f"{label}: only the last tier may have up_to null")
        up_to = None if item.get("up_to") is None else _dec(item["up_to"], f"{label}.up_to")
        if up_to is not None and up_to <= previous:
            raise ValueError(f"{label}.up_to must be greater than the previous tier's")
        tiers.append(
            Tier(
                up_to=up_to,
                unit_amount=_dec(item.get("unit_amount", 0), f"{label}.unit_amount"),
                flat_amount=_dec(item.get("flat_amount", 0), f"{label}.flat_amount"),
            )
        )
        previous = up_to
    return tuple(tiers)


def parse_price(raw: dict[str, Any], what: str) -> Price:
    return Price(
        unit_amount=_dec(raw.get("unit_amount", 0), f"{what}.unit_amount"),
        allowance=_dec(raw.get("allowance", 0), f"{what}.allowance"),
        tiers=parse_tiers(raw.get("tiers"), f"{what}.tiers"),
    )


def price_to_json(price: Price) -> dict[str, Any]:
    return {
        "unit_amount": decimal_string(price.unit_amount),
        "allowance": decimal_string(price.allowance),
        "tiers": [
            {
                "up_to": None if t.up_to is None else decimal_string(t.up_to),
                "unit_amount": decimal_string(t.unit_amount),
                "flat_amount": decimal_string(t.flat_amount),
            }
            for t in price.tiers
        ],
    }


def pricing_to_json(p: MeterPricing) -> dict[str, Any]:
    return {
        "meter": p.meter,
        **price_to_json(p.price),
        "price_tiers": (
            {tier: price_to_json(price) for tier, price in p.price_tiers.items()}
            if p.price_tiers
            else None
        ),
    }


def pricing_from_json(raw: dict[str, Any]) -> MeterPricing:
    meter = raw["meter"]
    tiers = raw.get("price_tiers")
    return MeterPricing(
        meter=meter,
        price=parse_price(raw, meter),
        price_tiers=(
            {name: parse_price(p, f"{meter}.price_tiers.{name}") for name, p in tiers.items()}
            if tiers
            else None
        ),
    )
