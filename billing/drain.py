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

The inbox writes such an event as a tally line (its sum's field and its quantity,
billing.usage), which the drain sums without reading the event as JSON. With Redis, such
events are summed before any drain sees them: the web process adds each to a
sum per tenant, meter, dimensions and minute in a hash, the usage tally (billing.usage), so the
stream carries only events with keys of their own. The drain takes the hash whole (renames it,
in one script that also lists it in a set of taken hashes, so web processes start a new one)
and stores its sums under keys made of the taken hash's name and the sum's, then deletes it:
a drainer killed after the commit leaves the hash listed, and the next one finds its keys
already stored.
"""

import hashlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.inbox import inbox_drain
from billing.models import UsageDrainMark, UsageEvent
from billing.rollups import billing_lock
from billing.usage import inbox_line_read, insert_events, tally_field, usage_tally_key
from maas.redis_calls import RedisScript, redis_client

log = logging.getLogger("maas.billing.drain")

GROUP = "billing"  # the stream's consumer group
MARKS_KEPT = timedelta(days=7)  # a mark the drain failed to delete is pruned after this

Position = tuple[int, int]
# An event, or a tally line's (field, quantity): billing.usage.inbox_line_read.
Event = dict[str, Any] | tuple[bytes, int]
Batch = list[tuple[str, Event]]  # (position in the source, event), in order
Tally = tuple[bytes, int, int]  # a tally field, the quantity of its events, how many they are
Ranges = list[tuple[Position, Position]]
# What of a batch the marks (Ranges) leave to store: the positions of it (None: every event from
# its first position to its last, in one contiguous run), those with keys of their own, and
# the tallies of those with made-up keys.
Fresh = tuple[list[str] | None, list[dict], list[Tally]]


def position(text: str) -> Position:
    """A position as text ("1733-5" for a stream entry id, "4096" for an inbox offset) in order."""
    first, _, second = text.partition("-")
    return int(first), int(second or 0)


def _marked(at: Position, ranges: Ranges) -> bool:
    return any(low <= at <= high for low, high in ranges)


def batch_store(
    source: str, batch: Batch, *, contiguous: bool, sequential: bool = False
) -> tuple[int, list[tuple[str, str]]]:
    """Stores the events of `batch` not stored before, in one transaction; returns how many,
    and the spans it marked.

    `contiguous`: the batch is every event of `source` from its first position to its last
    (an inbox read, a stream read of new entries). `sequential`: one drainer at a time reads
    the source in order (the inbox), so once this batch is stored, no mark before it is needed."""
    if not batch:
        return 0, []

    def fresh_of(ranges: Ranges) -> Fresh:
        kept = [(at, e) for at, e in batch if not _marked(position(at), ranges)]
        positions = None if contiguous and len(kept) == len(batch) else [at for at, _ in kept]
        whole, tallied = _apart((event, 1) for _, event in kept)
        return positions, whole, tallied

    return _store(source, batch[0][0], batch[-1][0], fresh_of, sequential=sequential)


def lines_store(source: str, start: int, lines: list[bytes]) -> int:
    """`batch_store` for inbox lines (`lines`, the first at byte offset `start` of `source`):
    the same marks, but identical lines are read once and counted (a batch of predictions'
    tally lines holds a few distinct ones), so its cost per line is a hash, not a parse."""
    if not lines:
        return 0
    last = start + sum(map(len, lines)) - len(lines[-1])

    def fresh_of(ranges: Ranges) -> Fresh:
        if not ranges:
            return None, *_apart(Counter(lines).items(), read=inbox_line_read)
        positions, kept, at = [], [], start
        for line in lines:  # a batch read again after its drainer died: rare
            if not _marked((at, 0), ranges):
                positions.append(str(at))
                kept.append(line)
            at += len(line)
        return positions, *_apart(Counter(kept).items(), read=inbox_line_read)

    return _store(source, str(start), str(last), fresh_of, sequential=True)[0]


def _apart(
    events: Iterable[tuple[Any, int]], read: Callable[[Any], Event] | None = None
) -> tuple[list[dict], list[Tally]]:
    """Events, each with how many times it came (`read` turns each into an Event first), taken
    apart: those with keys of their own, and tallies of those with made-up keys."""
    whole, tallied = [], []
    for item, times in events:
        event = read(item) if read else item
        if isinstance(event, tuple):
            field, quantity = event
            tallied.append((field, quantity * times, times))
        elif event.get("n"):  # a made-up key, written as JSON (before tally lines)
            at = datetime.fromisoformat(event["o"])
            field = tally_field(event["t"], event["m"], at, event.get("d") or {})
            tallied.append((field, int(event["q"]) * times, times))
        else:  # the same key however many times it came: stored once
            whole.append(event)
    return whole, tallied


def _store(
    source: str, first: str, last: str, fresh_of: Callable[[Ranges], Fresh], *, sequential: bool
) -> tuple[int, list[tuple[str, str]]]:
    """Stores what `fresh_of` leaves of the batch from position `first` to `last` of `source`,
    given the marks that reach into it, and marks it, in one transaction (`batch_store`)."""
    low, high = position(first), position(last)
    with transaction.atomic():
        billing_lock()  # the check and the insert, one drainer at a time
        marks = [
            (a, b, position(a), position(b))
            for a, b in UsageDrainMark.objects.filter(source=source).values_list("first", "last")
        ]
        ranges = [(a, b) for _, _, a, b in marks if a <= high and low <= b]
        positions, whole, tallied = fresh_of(ranges)
        if positions == []:
            return 0, []
        key_prefix = f"{source}@{positions[0] if positions else first}"
        sums = _of_existing_tenants(_sums(tallied, key_prefix=key_prefix))
        stored = insert_events(_of_existing_tenants(whole))
        if insert_events(sums) != len(sums):  # keys of a position never stored: cannot happen
            raise RuntimeError(f"usage drain: a sum of {source} was stored before")
        # A range could cover an event another batch holds unless the batch is one run of
        # the source, all of it new: else each position is marked.
        spans = [(first, last)] if positions is None else [(at, at) for at in positions]
        UsageDrainMark.objects.bulk_create(
            [UsageDrainMark(source=source, first=a, last=b) for a, b in spans]
        )
        if sequential:  # marks before the batch: their batches can no longer be read again
            before = [a for a, _, _, b in marks if b < low]
            UsageDrainMark.objects.filter(source=source, first__in=before).delete()
    return stored + sum(e["c"] for e in sums), spans


def _sums(tallied: list[Tally], *, key_prefix: str) -> list[dict]:
    """Tallies summed per field (tenant, meter, minute, dimensions), in the drain's event form,
    each keyed `{key_prefix}:{n}` and counting the events it holds."""
    groups: dict[bytes, list[int]] = {}
    for field, quantity, count in tallied:
        group = groups.get(field)
        if group is None:
            groups[field] = [quantity, count]
        else:
            group[0] += quantity
            group[1] += count
    return [
        _sum_event(field, quantity, count, f"{key_prefix}:{n}")
        for n, (field, (quantity, count)) in enumerate(groups.items())
    ]


def _sum_event(field: bytes, quantity: int, count: int, key: str) -> dict[str, Any]:
    """A sum of events, keyed `key`, in the form insert_events takes."""
    tenant_id, meter, minute, dims = orjson.loads(field)
    return {"t": tenant_id, "m": meter, "q": quantity, "k": key, "o": minute, "d": dims, "c": count}


def marks_prune() -> int:
    """Deletes marks older than MARKS_KEPT (left by a drainer that died right after it told
    its source); returns how many."""
    old = UsageDrainMark.objects.filter(created_at__lt=timezone.now() - MARKS_KEPT)
    return old.delete()[0]


def _of_existing_tenants(events: list[dict]) -> list[dict]:
    """Events of a tenant deleted since they were recorded cannot be stored (and must not block
    the stream); they are logged and dropped with their tenant."""
    from tenants.selectors import tenant_ids_existing

    if not events:  # a batch of tally lines has no events of its own: no query
        return events
    wanted = {e["t"] for e in events}
    existing = tenant_ids_existing(wanted)
    for tenant_id in wanted - existing:
        log.warning("dropping usage of deleted tenant %s", tenant_id)
    return [e for e in events if e["t"] in existing]


# --- Redis: the tally, then the stream -----------------------------------------------------------


def drain_usage_redis(*, batch_size: int = 1000, claim_idle_ms: int = 30_000) -> int:
    """Moves the usage Redis holds (the tally's sums, then the stream's events) into the
    database; returns how many events were new."""
    return drain_usage_tally() + drain_usage_stream(
        batch_size=batch_size, claim_idle_ms=claim_idle_ms
    )


# KEYS: the tally, a new name for it, the set of taken tallies. Returns the taken ones' names.
_TAKE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('SADD', KEYS[3], KEYS[2])
end
return redis.call('SMEMBERS', KEYS[3])
"""
_take_script = RedisScript(_TAKE_LUA, keys=3)


def drain_usage_tally() -> int:
    """Stores the tally's sums (and those of tallies taken by a drainer that died before it
    deleted them); returns how many events they hold that were new."""
    tally = usage_tally_key()
    taken = f"{tally}:taken"
    names = _take_script(tally, f"{taken}:{uuid.uuid4().hex}", taken)
    client = redis_client()
    stored = 0
    for name in sorted(n.decode() if isinstance(n, bytes) else n for n in names):
        stored += _tally_store(name, client.hgetall(name))
        _tally_forget(client, taken, name)
    return stored


def _tally_store(name: str, sums: dict[bytes, bytes]) -> int:
    batch = name.rsplit(":", 1)[1]
    events = [
        _sum_event(
            field,
            int(quantity),
            int(sums[b"#" + field]),
            f"tally:{batch}:{hashlib.blake2b(field, digest_size=8).hexdigest()}",
        )
        for field, quantity in sums.items()
        if not field.startswith(b"#")  # an event count, read with its sum
    ]
    if not events:
        return 0
    with transaction.atomic():
        billing_lock()  # the check and the insert, one drainer at a time
        events = _of_existing_tenants(events)
        known = set(
            UsageEvent.objects.filter(
                tenant_id__in={e["t"] for e in events},
                idempotency_key__in=[e["k"] for e in events],
            ).values_list("idempotency_key", flat=True)
        )
        fresh = [e for e in events if e["k"] not in known]
        insert_events(fresh)
    return sum(e["c"] for e in fresh)


def _tally_forget(client, taken: str, name: str) -> None:
    """Deletes a stored tally and its listing, together."""
    pipe = client.pipeline(transaction=True)
    pipe.delete(name)
    pipe.srem(taken, name)
    pipe.execute()


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


def drain_usage_inbox(*, batch_size: int = 20_000) -> int:
    """Moves events from the inbox into the database; returns how many were new. Its lines
    are tally lines (made-up keys only), summed without parsing each one, so a batch's cost is
    its few sums' rows: hence batches of 20,000.

    The inbox remembers how far it was drained only after the transaction holding a batch
    commits; a drainer killed in between leaves the batch to the next drain, which finds it
    marked and moves on."""

    def store(file: str, start: int, lines: list[bytes]) -> int:
        return lines_store(f"inbox:{file}", start, lines)

    def forget(file: str) -> None:
        UsageDrainMark.objects.filter(source=f"inbox:{file}").delete()

    return inbox_drain(store, forget, batch_size)
