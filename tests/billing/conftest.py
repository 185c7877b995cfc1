from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from billing.models import BillingAccount, MeterPrice, PriceBook, UsageEvent
from billing.services import usage_record
from tests.factories import TenantFactory


@pytest.fixture
def simple_book(db):
    """Round prices so the hand calculations in the tests stay readable."""
    book = PriceBook.objects.create(code="test", name="Test", currency="usd")
    MeterPrice.objects.create(
        price_book=book, meter="compute.cpu_seconds", unit_amount=Decimal("0.001"), allowance=100
    )
    MeterPrice.objects.create(
        price_book=book, meter="data.ingested_bytes", unit_amount=Decimal("0.000000001")
    )
    MeterPrice.objects.create(
        price_book=book,
        meter="predictions",
        unit_amount=Decimal("0.001"),
        price_tiers={
            "light": {"unit_amount": "0.0001", "allowance": "1000", "tiers": []},
            "standard": {
                "unit_amount": "0",
                "allowance": "0",
                "tiers": [
                    {"up_to": "10000", "unit_amount": "0.001", "flat_amount": "0"},
                    {"up_to": None, "unit_amount": "0.0005", "flat_amount": "1"},
                ],
            },
            "heavy": {"unit_amount": "0.01", "allowance": "0", "tiers": []},
        },
    )
    return book


@pytest.fixture
def billed_tenant(simple_book):
    tenant = TenantFactory()
    tenant.created_at = datetime(2026, 1, 1, tzinfo=UTC)  # auto_now_add ignores a given value
    tenant.save(update_fields=["created_at"])
    BillingAccount.objects.create(tenant=tenant, price_book=simple_book, billing_email="b@x.co")
    return tenant


_counter = iter(range(10**9))


def record(
    tenant,
    meter: str,
    quantity,
    *,
    at: datetime | None = None,
    key: str | None = None,
    new_key: bool = False,
    **dims,
):
    """`new_key`: the key is made up for this event (as a prediction's is), never a repeat."""
    return usage_record(
        tenant=tenant,
        meter=meter,
        quantity=quantity,
        idempotency_key=key or f"k{next(_counter)}",
        occurred_at=at,
        dimensions=dims or None,
        new_key=new_key,
    )


def events_stored(**filters) -> int:
    """How many recorded events the usage table holds (a drained row may sum several)."""
    return UsageEvent.objects.filter(**filters).aggregate(n=Sum("event_count"))["n"] or 0
