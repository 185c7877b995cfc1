"""billing.drain: batches stored once whatever the order in which drainers meet them."""

import orjson
import pytest

from billing.drain import batch_store, position
from billing.models import UsageDrainMark, UsageEvent
from billing.usage import usage_prepare
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
