from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from billing.meters import METERS, PRICE_TIERS
from billing.pricing import MeterPricing, Price, parse_price, parse_tiers
from maas.ids import PrefixedIdField

METER_CHOICES = [(code, code) for code in METERS]


class UsageEvent(models.Model):
    """Recorded usage. Exactly one row per (tenant, idempotency_key), ever.

    A row is one event, or, for predictions whose keys were made up (no client
    `Idempotency-Key`), the sum of the events of one drained batch that share tenant, meter,
    dimensions and minute (`event_count` of them; billing.drain)."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="usage_events"
    )
    meter = models.CharField(max_length=40, choices=METER_CHOICES)
    quantity = models.BigIntegerField(help_text="in the meter's minor unit (see billing.meters)")
    idempotency_key = models.CharField(max_length=255)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    dimensions = models.JSONField(default=dict, blank=True)
    dims_key = models.CharField(max_length=64, help_text="canonical form of dimensions")
    rolled_up = models.BooleanField(default=False)
    event_count = models.PositiveIntegerField(default=1, help_text="recorded events it sums")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="usage_event_once")
        ]
        # Only the tail of not-yet-rolled-up events is ever scanned: by the rollup (in id order)
        # and by reports (per tenant and time). No index covers rolled-up events, so the insert
        # on the predict path maintains the two small partial indexes and the unique key only.
        # Queries must spell the condition as the index does (`NOT rolled_up`, not a bound
        # parameter) for the planners to use them.
        indexes = [
            models.Index(
                fields=["id"], name="usage_event_pending", condition=models.Q(rolled_up=False)
            ),
            models.Index(
                fields=["tenant", "occurred_at"],
                name="usage_event_pending_tenant",
                condition=models.Q(rolled_up=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter} {self.quantity} ({self.idempotency_key})"

    @property
    def quantity_decimal(self) -> Decimal:
        return METERS[self.meter].from_minor(self.quantity)


class UsageRollup(models.Model):
    """Sum of events per tenant, meter, bucket and dimension set. Maintained incrementally."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    meter = models.CharField(max_length=40, choices=METER_CHOICES)
    bucket = models.DateTimeField(help_text="start of the hour or day (UTC)")
    dims_key = models.CharField(max_length=64)
    dimensions = models.JSONField(default=dict, blank=True)
    quantity = models.BigIntegerField(default=0)
    event_count = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.meter} {self.bucket:%Y-%m-%d %H:00} {self.quantity}"


class UsageHourly(UsageRollup):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "meter", "bucket", "dims_key"], name="usage_hourly_key"
            )
        ]
        verbose_name_plural = "usage (hourly)"


class UsageDaily(UsageRollup):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "meter", "bucket", "dims_key"], name="usage_daily_key"
            )
        ]
        indexes = [models.Index(fields=["tenant", "bucket"], name="usage_daily_tenant_bucket")]
        verbose_name_plural = "usage (daily)"


class PriceBook(models.Model):
    """A plan's prices. Tenants use the book whose code is their plan, unless their billing
    account names another (a custom deal)."""

    code = models.SlugField(max_length=50, unique=True, help_text="a plan name, or a custom code")
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="usd")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.code


def _significant_digits_ok(value: Decimal | None) -> None:
    # SQLite keeps decimals as 64-bit floats: 15 significant digits round-trip exactly.
    if value is not None and len(value.normalize().as_tuple().digits) > 15:
        raise ValidationError(f"{value} has more than 15 significant digits")


class MeterPrice(models.Model):
    """The price of one meter in one price book."""

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="prices")
    meter = models.CharField(max_length=40, choices=METER_CHOICES)
    unit_amount = models.DecimalField(
        max_digits=24, decimal_places=12, default=Decimal(0), validators=[_significant_digits_ok]
    )
    allowance = models.DecimalField(
        max_digits=24,
        decimal_places=3,
        default=Decimal(0),
        validators=[_significant_digits_ok],
        help_text="included each month, in the meter's unit",
    )
    tiers = models.JSONField(
        default=list,
        blank=True,
        help_text='graduated: [{"up_to": "1000000"|null, "unit_amount": "0.0001", '
        '"flat_amount": "0"}]',
    )
    price_tiers = models.JSONField(
        null=True,
        blank=True,
        help_text='predictions only: {"light": {"unit_amount", "allowance", "tiers"}, '
        '"standard": {...}, "heavy": {...}}',
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_book", "meter"], name="meter_price_once")
        ]

    def __str__(self) -> str:
        return f"{self.price_book.code}: {self.meter}"

    def clean(self) -> None:
        try:
            self.to_pricing()
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        if self.price_tiers is not None:
            unknown = set(self.price_tiers) - set(PRICE_TIERS)
            if unknown or self.meter != "predictions":
                raise ValidationError(
                    "price_tiers are for the predictions meter, keyed light/standard/heavy"
                )

    def to_pricing(self) -> MeterPricing:
        price = Price(
            unit_amount=Decimal(self.unit_amount),
            allowance=Decimal(self.allowance),
            tiers=parse_tiers(self.tiers, f"{self.meter}.tiers"),
        )
        tiers = None
        if self.price_tiers:
            tiers = {
                name: parse_price(raw, f"{self.meter}.price_tiers.{name}")
                for name, raw in self.price_tiers.items()
            }
        return MeterPricing(meter=self.meter, price=price, price_tiers=tiers)


class BillingAccount(models.Model):
    """Billing side of a tenant. Plan, currency and spend limit are the tenant's own fields (one
    source of truth); the account adds Stripe ids, the billing email and an optional custom
    price book."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="billing_account"
    )
    billing_email = models.EmailField(blank=True)
    price_book = models.ForeignKey(
        PriceBook,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="empty: the book of the tenant's plan",
    )
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"billing for {self.tenant_id}"


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"  # finalized: immutable; corrections go on the next invoice
        PAID = "paid"
        VOID = "void"

    id = PrefixedIdField(prefix="in")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(help_text="exclusive")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3, default="usd")
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    pricing = models.JSONField(default=list, help_text="the prices used, as they were")
    finalized_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    stripe_invoice_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period_start"], name="invoice_per_period")
        ]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="invoice_list")]

    def __str__(self) -> str:
        return f"{self.id} {self.tenant_id} {self.period_start:%Y-%m} {self.total}"


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        USAGE = "usage"
        ADJUSTMENT = "adjustment"  # usage of an earlier, already finalized period

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.USAGE)
    meter = models.CharField(max_length=40, choices=METER_CHOICES)
    price_tier = models.CharField(max_length=20, blank=True)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=30, decimal_places=3)
    unit_amount = models.DecimalField(max_digits=24, decimal_places=12)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    adjusts = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="adjusted_by"
    )
    stripe_invoice_item_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position")
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} #{self.position} {self.description} {self.amount}"


class PendingAdjustment(models.Model):
    """A finalized period that received usage after it was invoiced; the next invoice of the
    tenant bills the difference as adjustment lines."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "invoice"], name="pending_adjustment_once")
        ]

    def __str__(self) -> str:
        return f"late usage for {self.invoice_id}"


class SpendStatus(models.Model):
    """A tenant's month-to-date charges as of the last rollup: what spend_check reads."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateTimeField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    # The month's quantity per invoice line ("meter|price_tier": decimal string), from which a
    # web process prices what it admits before the next rollup (billing/spend.py).
    quantities = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "spend status"

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.period_start:%Y-%m}: {self.amount}"


class SpendAlert(models.Model):
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="spend_alerts"
    )
    period_start = models.DateTimeField()
    threshold = models.PositiveSmallIntegerField(help_text="percent of the spend limit")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    spend_limit = models.DecimalField(max_digits=14, decimal_places=2)
    emailed_to = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period_start", "threshold"], name="spend_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.threshold}% of {self.spend_limit}"


class StripeEvent(models.Model):
    """Stripe webhook events already handled (a replay is then a no-op)."""

    id = models.CharField(max_length=100, primary_key=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.id} ({self.type})"


class UsageDrainMark(models.Model):
    """A range of a usage source (an inbox file's byte offsets, a Redis stream's entry ids)
    whose events are stored, committed with them (billing.drain): a batch drained again after
    its drainer died between the commit and the acknowledgement is recognized and skipped.
    Marks are deleted once the source can no longer hand those events out again."""

    source = models.CharField(max_length=200)
    first = models.CharField(max_length=40)
    last = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "first"], name="usage_drain_mark_once")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.first}..{self.last}"
