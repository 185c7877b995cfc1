"""Draining the usage sinks (the Redis stream, the embedded inbox) into the usage table, each
event counted exactly once, at a cost per batch rather than per event.

A prediction without a client `Idempotency-Key` records an event with a key made up for it
(`"n"` in the event): thousands a second under load. Stored one row each, they cost the worker
~30 µs of CPU apiece, inserted and rolled up, and that work, every 5 s, was what was left of
the predict path's p99 (docs/serving.md). So a drained batch stores such events summed: one
row per tenant, meter, dimensions and minute, with `event_count` saying how many events it
holds and a key that names the batch. Events with keys of their own (a client's, a job's) are
stored one row each under those keys, as before.

A made-up key cannot dedupe a batch drained twice (its drainer died after the commit and
before the sink was told), since the sum's key is the batch's, so each batch commits a mark of
the positions it covered (UsageDrainMark: inbox byte offsets, stream entry ids) in the same
transaction as its rows, and every batch skips positions already marked. The check and the
insert run under billing's lock, so two drainers never both store a position. A batch that is
not one contiguous range of its source (entries claimed from a dead consumer) marks each
position it stores, so a range can never cover an event that another batch holds.
"""

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.inbox import inbox_drain
from billing.models import UsageDrainMark
from billing.rollups import billing_lock
from billing.usage import insert_events
from maas.redis_calls import redis_client

log = logging.getLogger("maas.billing.drain")

GROUP = "billing"  # the stream's consumer group
MARKS_KEPT = timedelta(days=7)  # a mark the drain failed to delete is pruned after this

Position = tuple[int, int]
Batch = list[tuple[str, dict[str, Any]]]  # (position in the source, event), in order


def position(text: str) -> Position:
    """A position as text ("1733-5" for a stream entry id, "4096" for an inbox offset) in order."""
    first, _, second = text.partition("-")
    return int(first), int(second or 0)


def batch_store(
    source: str, batch: Batch, *, contiguous: bool, sequential: bool = False
) -> tuple[int, list[tuple[str, str]]]:
    """Stores the events of `batch` not stored before, in one transaction; returns how many,
    and the spans it marked.

    `contiguous`: the batch is every event of `source` from its first position to its last
    (an inbox read, a stream read of new entries). `sequential`: one drainer at a time reads
    the source in order (the inbox), so once this batch is stored, no earlier mark is needed."""
    if not batch:
        return 0, []
    with transaction.atomic():
        billing_lock()
        marks = UsageDrainMark.objects.filter(source=source).values_list("first", "last")
        ranges = [(position(low), position(high)) for low, high in marks]
        fresh = [
            (at, event)
            for at, event in batch
            if not any(low <= position(at) <= high for low, high in ranges)
        ]
        if not fresh:
            return 0, []
        events = _of_existing_tenants([event for _, event in fresh])
        summed = [e for e in events if e.get("n")]
        sums = _sums(summed, key_prefix=f"{source}@{fresh[0][0]}")
        stored = insert_events(e for e in events if not e.get("n"))
        if insert_events(sums) != len(sums):  # keys of a position never stored: cannot happen
            raise RuntimeError(f"usage drain: a sum of {source} was stored before")
        if contiguous and len(fresh) == len(batch):
            spans = [(batch[0][0], batch[-1][0])]
        else:  # a range could cover an event another batch holds: mark each one
            spans = [(at, at) for at, _ in fresh]
        UsageDrainMark.objects.bulk_create(
            [UsageDrainMark(source=source, first=low, last=high) for low, high in spans]
        )
        if sequential:
            UsageDrainMark.objects.filter(source=source).exclude(first=spans[0][0]).delete()
    return stored + len(summed), spans


def _sums(events: list[dict], *, key_prefix: str) -> list[dict]:
    """Events summed per tenant, meter, dimensions and minute, in the drain's event form, each
    keyed `{key_prefix}:{n}` and counting the events it holds."""
    groups: dict[tuple, list] = {}
    for e in events:
        moment = datetime.fromisoformat(e["o"]).astimezone(UTC)
        minute = moment.replace(second=0, microsecond=0)
        dims = e.get("d") or {}
        key = (e["t"], e["m"], minute, orjson.dumps(dims, option=orjson.OPT_SORT_KEYS))
        group = groups.get(key)
        if group is None:
            groups[key] = [int(e["q"]), 1, dims]
        else:
            group[0] += int(e["q"])
            group[1] += 1
    return [
        {"t": t, "m": m, "q": q, "k": f"{key_prefix}:{n}", "o": minute.isoformat(), "d": d, "c": c}
        for n, ((t, m, minute, _), (q, c, d)) in enumerate(groups.items())
    ]


def marks_prune() -> int:
    """Deletes marks older than MARKS_KEPT (left by a drainer that died right after it told
    its source); returns how many."""
    old = UsageDrainMark.objects.filter(created_at__lt=timezone.now() - MARKS_KEPT)
    return old.delete()[0]


def _of_existing_tenants(events: list[dict]) -> list[dict]:
    """Events of a tenant deleted since they were recorded cannot be stored (and must not block
    the stream); they are logged and dropped with their tenant."""
    from tenants.selectors import tenant_ids_existing

    wanted = {e["t"] for e in events}
    existing = tenant_ids_existing(wanted)
    for tenant_id in wanted - existing:
        log.warning("dropping usage of deleted tenant %s", tenant_id)
    return [e for e in events if e["t"] in existing]


# --- the Redis stream --------------------------------------------------------------------------


def drain_usage_stream(*, batch_size: int = 1000, claim_idle_ms: int = 30_000) -> int:
    """Moves events from the Redis stream into the database; returns how many were new.

    An entry is acknowledged and deleted only after the transaction holding it commits. A
    drainer killed in between leaves it pending; the next drain claims pending entries idle
    for `claim_idle_ms`, finds them marked and only acknowledges them.
    """
    import redis

    client = redis_client()
    stream = settings.MAAS_USAGE_STREAM
    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    stored = 0
    start = "0-0"
    while True:  # first, entries a dead drainer read but never acknowledged
        start, claimed, *_ = client.xautoclaim(
            stream, GROUP, consumer, min_idle_time=claim_idle_ms, start_id=start, count=batch_size
        )
        stored += _stream_batch(client, stream, claimed, contiguous=False)
        if start in (b"0-0", "0-0"):
            break
    while True:  # then new entries: each read is every entry after the last one read
        response = client.xreadgroup(GROUP, consumer, {stream: ">"}, count=batch_size)
        entries = response[0][1] if response else []
        if not entries:
            break
        stored += _stream_batch(client, stream, entries, contiguous=True)
    return stored


def _stream_batch(client, stream: str, entries, *, contiguous: bool) -> int:
    ids = [entry_id for entry_id, _ in entries]
    if not ids:
        return 0
    batch = [  # an entry deleted meanwhile comes back without fields
        (entry_id.decode(), orjson.loads(fields[b"e"])) for entry_id, fields in entries if fields
    ]
    source = f"stream:{stream}"
    stored, spans = batch_store(source, batch, contiguous=contiguous)
    client.xack(stream, GROUP, *ids)
    client.xdel(stream, *ids)
    if spans:  # told: these entries cannot come again, so their marks are not needed
        UsageDrainMark.objects.filter(source=source, first__in=[low for low, _ in spans]).delete()
    return stored


# --- the inbox ---------------------------------------------------------------------------------


def drain_usage_inbox(*, batch_size: int = 1000) -> int:
    """Moves events from the inbox into the database; returns how many were new.

    The inbox remembers how far it was drained only after the transaction holding a batch
    commits; a drainer killed in between leaves the batch to the next drain, which finds it
    marked and moves on."""

    def store(file: str, batch: Batch) -> int:
        return batch_store(f"inbox:{file}", batch, contiguous=True, sequential=True)[0]

    def forget(file: str) -> None:
        UsageDrainMark.objects.filter(source=f"inbox:{file}").delete()

    return inbox_drain(store, forget, batch_size)
