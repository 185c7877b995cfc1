from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction

from billing.models import UsageDrainMark, UsageEvent
from billing.services import usage_record
from tests.billing.conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_sink(settings):
    settings.MAAS_USAGE_SINK = "database"


def test_a_repeat_is_a_no_op_that_says_so(tenant):
    first = record(tenant, "predictions", 5, key="req-1", price_tier="light")
    again = record(tenant, "predictions", 5, key="req-1", price_tier="light")
    other_quantity = record(tenant, "predictions", 7, key="req-1", price_tier="light")
    assert first.recorded and not again.recorded and not other_quantity.recorded
    assert UsageEvent.objects.get().quantity == 5


def test_keys_are_per_tenant(tenant, other_tenant):
    assert record(tenant, "predictions", 1, key="same").recorded
    assert record(other_tenant, "predictions", 1, key="same").recorded
    assert UsageEvent.objects.count() == 2


def test_quantities_are_kept_exactly_in_minor_units(tenant):
    record(tenant, "compute.cpu_seconds", 1.2345, key="cpu")  # rounds half-even to the ms
    record(tenant, "data.ingested_bytes", 10**12, key="bytes")
    cpu, data = UsageEvent.objects.order_by("id")
    assert cpu.quantity == 1234 and cpu.quantity_decimal == Decimal("1.234")
    assert data.quantity == 10**12


@pytest.mark.parametrize(
    ("meter", "quantity", "dims", "message"),
    [
        ("predictions", 1.5, None, "whole number"),
        ("predictions", -1, None, ">= 0"),
        ("predictions", "abc", None, "not a number"),
        ("predictions", float("nan"), None, "finite"),
        ("nope", 1, None, "unknown meter"),
        ("data.ingested_bytes", 1, {"model": "mdl_x"}, "dimensions"),
    ],
)
def test_bad_usage_is_refused(tenant, meter, quantity, dims, message):
    with pytest.raises(ValueError, match=message):
        usage_record(
            tenant=tenant, meter=meter, quantity=quantity, idempotency_key="k", dimensions=dims
        )
    assert not UsageEvent.objects.exists()


def test_usage_inside_a_transaction_commits_or_rolls_back_with_it(tenant, settings):
    settings.MAAS_USAGE_SINK = "stream" if settings.REDIS_URL else "database"
    with transaction.atomic():
        result = record(tenant, "compute.cpu_seconds", 3, key="job-1:cpu")
    assert (
        result.sink == "database"
        and UsageEvent.objects.filter(idempotency_key="job-1:cpu").exists()
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        record(tenant, "compute.cpu_seconds", 3, key="job-2:cpu")
        raise RuntimeError("the job failed after all")
    assert not UsageEvent.objects.filter(idempotency_key="job-2:cpu").exists()


def test_occurred_at_is_kept_and_dimensions_canonical(tenant):
    at = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    record(
        tenant, "predictions", 2, at=at, key="a", model="mdl_1", price_tier="heavy", api_key="key_1"
    )
    record(
        tenant, "predictions", 2, at=at, key="b", api_key="key_1", price_tier="heavy", model="mdl_1"
    )
    a, b = UsageEvent.objects.order_by("id")
    assert a.occurred_at == at and a.dims_key == b.dims_key and a.dims_key
    assert a.dimensions == {"api_key": "key_1", "model": "mdl_1", "price_tier": "heavy"}


@pytest.mark.django_db(transaction=True)  # outside a transaction, as on the predict path
def test_the_inbox_takes_made_up_keys_and_its_drain_counts_each_key_once(tenant, settings):
    from billing.inbox import inbox_backlog
    from billing.services import drain_usage_inbox

    settings.MAAS_USAGE_SINK = "inbox"
    assert record(tenant, "predictions", 5, key="req-1", new_key=True).sink == "inbox"
    assert record(tenant, "predictions", 2, key="req-2", new_key=True).recorded
    assert not UsageEvent.objects.exists()  # not in the usage table until drained
    assert inbox_backlog()[0] == 2
    assert drain_usage_inbox() == 2 and inbox_backlog() == (0, None)
    assert drain_usage_inbox() == 0
    # Made-up keys never repeat; the drain stores the two summed (billing.drain), and a line
    # read twice is counted once by the drain's marks (tests/billing/test_inbox.py).
    stored = UsageEvent.objects.get()
    assert (stored.quantity, stored.event_count) == (7, 2)


@pytest.mark.django_db(transaction=True)
def test_with_the_inbox_a_callers_key_is_recorded_in_the_database_and_a_repeat_known(
    tenant, settings
):
    settings.MAAS_USAGE_SINK = "inbox"
    first = record(tenant, "predictions", 5, key="client-1")
    assert first.sink == "database" and first.recorded
    assert not record(tenant, "predictions", 5, key="client-1").recorded


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.REDIS_URL, reason="the stream sink needs REDIS_URL")
def test_a_made_up_key_is_tallied_and_keeps_no_dedupe_claim_in_redis(tenant, settings):
    from billing.services import drain_usage_redis
    from maas.redis_calls import redis_client

    settings.MAAS_USAGE_SINK = "stream"
    result = usage_record(
        tenant=tenant, meter="predictions", quantity=3, idempotency_key="made-up", new_key=True
    )
    assert result.recorded and result.sink == "stream"
    claim = f"{settings.MAAS_USAGE_STREAM}:key:{tenant.pk}:made-up"
    assert not redis_client().exists(claim)
    assert redis_client().xlen(settings.MAAS_USAGE_STREAM) == 0  # summed, not appended
    assert drain_usage_redis() == 1
    event = UsageEvent.objects.get(tenant=tenant)
    assert (event.quantity, event.event_count) == (3, 1)
    assert not UsageDrainMark.objects.exists()
    assert not redis_client().keys(f"{settings.MAAS_USAGE_STREAM}:tally*")  # taken and deleted
