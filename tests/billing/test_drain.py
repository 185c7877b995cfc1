"""billing.drain: batches stored once whatever the order in which drainers meet them."""

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.conf import settings
from django.utils import timezone

from billing import drain
from billing.drain import batch_store, drain_usage_tally, position
from billing.models import UsageDrainMark, UsageEvent
from billing.usage import usage_prepare, usage_record, usage_tally_key
from maas.redis_calls import redis_client
from tests.billing.conftest import events_stored

pytestmark = pytest.mark.django_db


def event(tenant, key: str, quantity: int = 1, new_key: bool = True) -> dict:
    return orjson.loads(
        usage_prepare(
            tenant=tenant,
            meter="predictions",
            quantity=quantity,
            idempotency_key=key,
            dimensions={"price_tier": "light", "model": "mdl_1"},
            new_key=new_key,
        ).payload
    )


def test_positions_order_as_numbers_not_text():
    assert position("10-2") > position("9-5") > position("9-1")
    assert position("4096") > position("512")


def test_entries_claimed_and_stored_apart_are_skipped_by_the_batch_that_read_them(tenant):
    # Drainer B claimed two entries of drainer A's batch (A looked dead) and stored them...
    claimed = [("5-0", event(tenant, "b", 2)), ("7-0", event(tenant, "d", 4))]
    assert batch_store("stream:s", claimed, contiguous=False)[0] == 2
    # ...then A, alive after all, stores the batch it read: only what B did not store.
    batch = [
        ("4-0", event(tenant, "a", 1)),
        *claimed[:1],
        ("6-0", event(tenant, "c", 3)),
        *claimed[1:],
    ]
    assert batch_store("stream:s", batch, contiguous=True)[0] == 2
    assert sum(UsageEvent.objects.values_list("quantity", flat=True)) == 10
    assert events_stored(tenant=tenant) == 4
    # A batch read again (its drainer died after the commit) stores nothing.
    assert batch_store("stream:s", batch, contiguous=True) == (0, [])


def test_events_with_keys_of_their_own_are_stored_one_row_each_under_their_keys(tenant):
    batch = [("1-0", event(tenant, "client-1", new_key=False)), ("2-0", event(tenant, "x"))]
    assert batch_store("stream:s", batch, contiguous=True)[0] == 2
    keys = set(UsageEvent.objects.values_list("idempotency_key", flat=True))
    assert "client-1" in keys and len(keys) == 2


def test_the_inbox_keeps_only_its_latest_mark(tenant):
    first = [("0", event(tenant, "a")), ("120", event(tenant, "b"))]
    then = [("240", event(tenant, "c"))]
    batch_store("inbox:f", first, contiguous=True, sequential=True)
    batch_store("inbox:f", then, contiguous=True, sequential=True)
    assert list(UsageDrainMark.objects.values_list("first", "last")) == [("240", "240")]


# --- the Redis tally ---------------------------------------------------------------------------

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="the tally needs REDIS_URL")


@pytest.fixture
def tallied(settings):
    settings.MAAS_USAGE_SINK = "stream"


# Outside a transaction: inside one, usage goes to the usage table with the work that made it.
outside_transactions = pytest.mark.django_db(transaction=True)


@needs_redis
@outside_transactions
@pytest.mark.usefixtures("tallied")
def test_the_tally_stores_one_row_per_tenant_meter_minute_and_dimensions(tenant, other_tenant):
    minute = datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
    for seconds, who, model in [(1, tenant, "a"), (59, tenant, "a"), (2, tenant, "b")]:
        at = minute + timedelta(seconds=seconds)
        record(tenant=who, meter="predictions", quantity=seconds, at=at, model=model)
    record(tenant=tenant, meter="predictions", quantity=7, at=minute + timedelta(minutes=1))
    record(tenant=other_tenant, meter="predictions", quantity=4, at=minute, model="a")
    assert drain_usage_tally() == 5
    rows = {
        (e.tenant_id, e.dimensions.get("model"), e.occurred_at): (e.quantity, e.event_count)
        for e in UsageEvent.objects.all()
    }
    assert rows == {
        (tenant.pk, "a", minute): (60, 2),
        (tenant.pk, "b", minute): (2, 1),
        (tenant.pk, None, minute + timedelta(minutes=1)): (7, 1),
        (other_tenant.pk, "a", minute): (4, 1),
    }
    assert drain_usage_tally() == 0  # taken and deleted: nothing comes twice


@needs_redis
@outside_transactions
@pytest.mark.usefixtures("tallied")
def test_a_tally_taken_by_a_drainer_that_died_is_stored_once_with_the_new_one(tenant):
    record(tenant=tenant, meter="predictions", quantity=3)
    tally = usage_tally_key()
    # A drainer took the tally and died before it stored it...
    drain._take_script(tally, f"{tally}:taken:dead", f"{tally}:taken")
    record(tenant=tenant, meter="predictions", quantity=4)  # ...and usage went on
    # ...or another died after storing it, before deleting it.
    record(tenant=tenant, meter="predictions", quantity=5)
    drain._take_script(tally, f"{tally}:taken:stored", f"{tally}:taken")
    drain._tally_store(f"{tally}:taken:stored", redis_client().hgetall(f"{tally}:taken:stored"))
    record(tenant=tenant, meter="predictions", quantity=6)
    assert drain_usage_tally() == 2  # the dead drainer's (3) and the new one (6); not 4 + 5 again
    assert sum(UsageEvent.objects.values_list("quantity", flat=True)) == 3 + 4 + 5 + 6
    assert events_stored(tenant=tenant) == 4
    assert not redis_client().keys(f"{tally}*")


@needs_redis
@outside_transactions
@pytest.mark.usefixtures("tallied")
def test_the_backlog_counts_tallied_events_and_the_oldest_minute(tenant):
    from billing.metrics import usage_backlog_read

    def backlog() -> dict:
        return {m.name: m.samples[0].value for m in usage_backlog_read()}

    assert backlog() == {"maas_usage_waiting": 0, "maas_usage_oldest_waiting_seconds": 0}
    long_ago = timezone.now() - timedelta(minutes=10)
    record(tenant=tenant, meter="predictions", quantity=2, at=long_ago)
    record(tenant=tenant, meter="predictions", quantity=2)
    waiting = backlog()
    assert waiting["maas_usage_waiting"] == 2
    assert 600 <= waiting["maas_usage_oldest_waiting_seconds"] <= 660
    drain_usage_tally()
    assert backlog()["maas_usage_waiting"] == 0


def record(*, tenant, meter: str, quantity: int, at: datetime | None = None, **dims) -> None:
    """An event with a key made up for it, as a prediction records its usage."""
    usage_record(
        tenant=tenant,
        meter=meter,
        quantity=quantity,
        idempotency_key=uuid.uuid4().hex,
        occurred_at=at,
        dimensions=dims or None,
        new_key=True,
    )
