"""What billing's endpoints answer: usage rows, prices and invoices. Money is a decimal string
rounded half-even to cents once, here (billing.pricing.money_string); quantities and prices are
exact decimal strings."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.meters import METERS, PRICE_TIERS
from billing.models import Invoice, InvoiceLine
from billing.pricing import money_string
from maas.serializers import ConstantField, DecimalOutput


@extend_schema_field({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "12.34"})
class MoneyOutput(serializers.Field):
    def to_representation(self, value: Decimal) -> str:
        return money_string(Decimal(value))


class UsageRowOutput(serializers.Serializer):
    meter = serializers.ChoiceField(choices=list(METERS))
    model = serializers.CharField(
        allow_null=True, required=False, help_text="With group_by model; null for other meters."
    )
    day = serializers.DateField(required=False, help_text="With group_by day.")
    quantity = DecimalOutput()
    amount = MoneyOutput(help_text="What the row adds to its month's invoice.")

    def to_representation(self, row: Any) -> dict[str, Any]:
        data = super().to_representation(row)
        group_by = self.context.get("group_by", ())
        for optional in ("model", "day"):
            if optional not in group_by:
                data.pop(optional, None)
        return data


class UsageOutput(serializers.Serializer):
    data = UsageRowOutput(many=True)
    currency = serializers.CharField()


class TierOutput(serializers.Serializer):
    up_to = DecimalOutput(allow_null=True, help_text="null: no end.")
    unit_amount = DecimalOutput()
    flat_amount = DecimalOutput()


class PriceOutput(serializers.Serializer):
    unit_amount = DecimalOutput()
    allowance = DecimalOutput()
    tiers = TierOutput(many=True)


class MeterPriceOutput(serializers.Serializer):
    meter = serializers.ChoiceField(choices=list(METERS))
    unit = serializers.SerializerMethodField()
    unit_amount = DecimalOutput(source="price.unit_amount")
    allowance = DecimalOutput(source="price.allowance")
    tiers = TierOutput(source="price.tiers", many=True)
    price_tiers = serializers.SerializerMethodField()

    def get_unit(self, pricing) -> str:
        return METERS[pricing.meter].unit

    @extend_schema_field(
        serializers.DictField(
            child=PriceOutput(), allow_null=True, help_text=", ".join(PRICE_TIERS)
        )
    )
    def get_price_tiers(self, pricing) -> dict | None:
        if not pricing.price_tiers:
            return None
        return {tier: PriceOutput(price).data for tier, price in pricing.price_tiers.items()}


class PricingOutput(serializers.Serializer):
    plan = serializers.CharField()
    price_book = serializers.CharField()
    currency = serializers.CharField()
    meters = MeterPriceOutput(many=True)


class InvoiceLineOutput(serializers.Serializer):
    meter = serializers.ChoiceField(choices=list(METERS))
    description = serializers.CharField()
    quantity = DecimalOutput()
    unit_amount = DecimalOutput()
    amount = MoneyOutput()
    kind = serializers.ChoiceField(choices=InvoiceLine.Kind.values)
    price_tier = serializers.CharField(required=False, help_text="predictions lines only.")
    adjusts_invoice = serializers.CharField(
        required=False,
        help_text="Adjustment lines only: the finalized invoice the usage came late for.",
    )

    def to_representation(self, line: Any) -> dict[str, Any]:
        data = super().to_representation(line)
        if not data["price_tier"]:
            del data["price_tier"]
        # A stored line (InvoiceLine) holds the id; a draft's line (invoicing.Line) the invoice.
        adjusts = (
            line.adjusts_id if hasattr(line, "adjusts_id") else getattr(line.adjusts, "pk", None)
        )
        if adjusts:
            data["adjusts_invoice"] = adjusts
        return data


class InvoiceOutput(serializers.Serializer):
    """A stored invoice, or the upcoming one (billing.invoicing.InvoiceDraft: no id, draft)."""

    id = serializers.CharField(allow_null=True, help_text="null for the upcoming invoice.")
    object = ConstantField("invoice")
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Invoice.Status.choices)
    currency = serializers.CharField()
    lines = InvoiceLineOutput(many=True)
    subtotal = MoneyOutput()
    total = MoneyOutput()
    stripe_invoice_id = serializers.CharField(allow_null=True)
    finalized_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, invoice: Any) -> dict[str, Any]:
        return super().to_representation(_InvoiceView(invoice, isinstance(invoice, Invoice)))


class _InvoiceView:
    """A stored invoice or a draft, seen through the fields InvoiceOutput reads."""

    def __init__(self, invoice: Any, stored: bool):
        self.id = invoice.pk if stored else None
        self.period_start, self.period_end = invoice.period_start, invoice.period_end
        self.status = invoice.status if stored else Invoice.Status.DRAFT
        self.currency = invoice.currency
        self.lines = invoice.lines.all() if stored else invoice.lines
        self.subtotal, self.total = invoice.subtotal, invoice.total
        self.stripe_invoice_id = (invoice.stripe_invoice_id or None) if stored else None
        self.finalized_at = invoice.finalized_at if stored else None
