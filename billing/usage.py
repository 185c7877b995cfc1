"""Recording usage: exactly once per (tenant, idempotency_key), durable before the caller answers.

Three sinks, chosen per call:
- database: one `INSERT ... ON CONFLICT DO NOTHING` into billing_usageevent. Used whenever the
  caller is inside a transaction (a job's usage commits or rolls back with the job), or when
  MAAS_USAGE_SINK says so.
- inbox (the embedded default, without Redis): for an event with a made-up key (`new_key`), one
  line appended to a file of the process's own (billing.inbox), drained into the same table
  with the same ON CONFLICT rule; an event with a caller's key goes to the database, whose
  unique key says at once whether it is a repeat.
- stream: one round trip to Redis running a Lua script that claims the idempotency key
  (`SET NX`, kept MAAS_USAGE_DEDUPE_SECONDS) and appends the event to a stream (`XADD`). Redis
  runs with AOF, so the event survives the web process being killed right after it answers.
  A `billing` worker drains the stream into the same table with the same ON CONFLICT rule, so
  the database stays the one arbiter of "exactly once" (a key whose Redis claim expired and is
  retried is still counted once).
See docs/billing.md for the measurements behind the choice.
"""

import hashlib
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing.inbox import inbox_append, inbox_drain
from billing.meters import Meter, get_meter
from billing.models import UsageEvent
from maas.ratelimit import StreamEntry
from maas.redis_calls import RedisScript, redis_call, redis_client

log = logging.getLogger("maas.billing.usage")

GROUP = "billing"

_RECORD_LUA = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then
  redis.call('XADD', KEYS[2], '*', 'e', ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class UsageRecordResult:
    recorded: bool  # False: this idempotency key was already recorded; nothing was counted
    sink: str  # "database", "inbox" or "stream"


def checked_dimensions(meter: Meter, dimensions: dict[str, Any] | None) -> dict[str, str]:
    """The meter's dimensions as strings, sorted by name; refuses one the meter does not keep."""
    if not dimensions:
        return {}
    unknown = set(dimensions) - set(meter.dimensions)
    if unknown:
        raise ValueError(
            f"{meter.code} keeps dimensions {', '.join(meter.dimensions)}; got {sorted(unknown)}"
        )
    return {k: str(v) for k, v in sorted(dimensions.items()) if v is not None}


def dimensions_key(dims: dict[str, str]) -> str:
    """A short stable key of a dimension set (rollups group by it)."""
    if not dims:
        return ""
    digest = hashlib.blake2b(orjson.dumps(dims, option=orjson.OPT_SORT_KEYS), digest_size=16)
    return digest.hexdigest()


def canonical_dimensions(meter: Meter, dimensions: dict[str, Any] | None) -> tuple[dict, str]:
    dims = checked_dimensions(meter, dimensions)
    return dims, dimensions_key(dims)


@dataclass(frozen=True, slots=True)
class PreparedUsage:
    """A checked usage event, not yet recorded (`usage_prepare`, then `usage_commit`)."""

    tenant_id: str
    meter: str
    minor: int
    idempotency_key: str
    occurred_at: datetime
    dims: dict[str, str]
    new_key: bool
    payload: bytes  # the event as the stream and the inbox carry it

    @property
    def stream_entry(self) -> StreamEntry | None:
        """The event as a Redis stream entry, when recording it would be that one append (the
        stream sink, outside a transaction, a key no repeat can come with): the caller may
        then append it in a round trip it makes anyway (maas.admission) and skip
        `usage_commit`. None otherwise."""
        if not self.new_key or _sink() != "stream":
            return None
        return StreamEntry(settings.MAAS_USAGE_STREAM, self.payload)

    def commit(self) -> "UsageRecordResult":
        """Records the event (`usage_commit`)."""
        return usage_commit(self)


def _sink() -> str:
    """Where an event recorded now goes: the usage table inside a transaction (a job's usage
    commits or rolls back with the job), else MAAS_USAGE_SINK."""
    return "database" if connection.in_atomic_block else settings.MAAS_USAGE_SINK


def usage_prepare(
    *,
    tenant: Any,
    meter: str,
    quantity: Decimal | int | float | str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    dimensions: dict[str, Any] | None = None,
    new_key: bool = False,
) -> PreparedUsage:
    """Checks one usage event (the arguments are `usage_record`'s) without recording it."""
    meter_def = get_meter(meter)
    if not 1 <= len(idempotency_key) <= 255:
        raise ValueError("idempotency_key must be 1 to 255 characters")
    minor = meter_def.to_minor(quantity)
    occurred_at = occurred_at or timezone.now()
    if timezone.is_naive(occurred_at):
        raise ValueError("occurred_at must be timezone-aware")
    dims = checked_dimensions(meter_def, dimensions)
    tenant_id = getattr(tenant, "pk", tenant)
    payload = _event(tenant_id, meter, minor, idempotency_key, occurred_at, dims)
    return PreparedUsage(
        tenant_id, meter, minor, idempotency_key, occurred_at, dims, new_key, payload
    )


def usage_record(
    *,
    tenant: Any,
    meter: str,
    quantity: Decimal | int | float | str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    dimensions: dict[str, Any] | None = None,
    new_key: bool = False,
) -> UsageRecordResult:
    """Records one usage event. A repeat of an idempotency key is a no-op that says so.

    `new_key=True`: the caller made the key up just now (the predict path without a client
    key), so no repeat can come; the stream then skips its dedupe claim, which would otherwise
    keep one Redis key per prediction for MAAS_USAGE_DEDUPE_SECONDS. The database still stores
    an event once."""
    usage = usage_prepare(
        tenant=tenant,
        meter=meter,
        quantity=quantity,
        idempotency_key=idempotency_key,
        occurred_at=occurred_at,
        dimensions=dimensions,
        new_key=new_key,
    )
    return usage_commit(usage)


def usage_commit(usage: PreparedUsage) -> UsageRecordResult:
    """Records a prepared event in the sink that fits (`_sink`)."""
    sink = _sink()
    if sink == "database" or (sink == "inbox" and not usage.new_key):
        dims = usage.dims
        return _record_in_database(
            usage.tenant_id,
            usage.meter,
            usage.minor,
            usage.idempotency_key,
            usage.occurred_at,
            dims,
            dimensions_key(dims),
        )
    if sink == "inbox" and usage.new_key:  # a key made up for this event: never a repeat
        inbox_append(usage.payload)
        return UsageRecordResult(recorded=True, sink=sink)
    return _record_in_stream(
        usage.tenant_id, usage.idempotency_key, usage.payload, new_key=usage.new_key
    )


def _event(tenant_id, meter, minor, key, occurred_at, dims) -> bytes:
    """An event as the stream and the inbox carry it (insert_events reads it back)."""
    return orjson.dumps(
        {"t": tenant_id, "m": meter, "q": minor, "k": key, "o": occurred_at.isoformat(), "d": dims}
    )


# --- database sink -----------------------------------------------------------------------------


_ROW_PLACEHOLDERS = "(%s, %s, %s, %s, %s, %s, %s, %s, %s)"
_BATCH_ROWS = 500  # 4,500 parameters: within SQLite's limit of 32,766


@cache
def _insert_sql(rows: int = 1) -> str:
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    return (
        f"INSERT INTO {table} (tenant_id, meter, quantity, idempotency_key, occurred_at, "  # noqa: S608
        "recorded_at, dimensions, dims_key, rolled_up) VALUES "
        + ", ".join([_ROW_PLACEHOLDERS] * rows)
        + " ON CONFLICT (tenant_id, idempotency_key) DO NOTHING"
    )


def _row(tenant_id, meter, minor, key, occurred_at, dims, dims_key, now) -> list:
    """`now`: the recorded_at, already adapted for the database (one value for a batch)."""
    return [
        tenant_id,
        meter,
        minor,
        key,
        connection.ops.adapt_datetimefield_value(occurred_at),
        now,
        orjson.dumps(dims).decode(),
        dims_key,
        False,
    ]


def _now_adapted() -> Any:
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _record_in_database(tenant_id, meter, minor, key, occurred_at, dims, dims_key):
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(),
            _row(tenant_id, meter, minor, key, occurred_at, dims, dims_key, _now_adapted()),
        )
        inserted = cursor.rowcount == 1
    return UsageRecordResult(recorded=inserted, sink="database")


def insert_events(rows: Iterable[dict[str, Any]]) -> int:
    """Inserts drained events (dicts as the stream carries them); returns how many were new."""
    now = _now_adapted()
    params = []
    for e in rows:
        meter = get_meter(e["m"])
        dims, dims_key = canonical_dimensions(meter, e.get("d"))
        occurred = datetime.fromisoformat(e["o"])
        params.append(_row(e["t"], e["m"], int(e["q"]), e["k"], occurred, dims, dims_key, now))
    if not params:
        return 0
    inserted = 0
    with connection.cursor() as cursor:
        # Multi-row statements: one round trip per 500 events; rowcount counts the new ones.
        for start in range(0, len(params), _BATCH_ROWS):
            chunk = params[start : start + _BATCH_ROWS]
            cursor.execute(_insert_sql(len(chunk)), [v for row in chunk for v in row])
            inserted += cursor.rowcount
    return inserted


# --- stream sink -------------------------------------------------------------------------------


_record_script = RedisScript(_RECORD_LUA, keys=2)


def _record_in_stream(
    tenant_id: str, key: str, payload: bytes, *, new_key: bool
) -> UsageRecordResult:
    stream = settings.MAAS_USAGE_STREAM
    if new_key:  # no repeat can come: no claim to keep
        redis_call("XADD", stream, "*", "e", payload)
        return UsageRecordResult(recorded=True, sink="stream")
    # If a reply is lost after the script ran, a retry finds the key claimed and answers "not
    # recorded": the event is still counted exactly once.
    added = _record_script(
        f"{stream}:key:{tenant_id}:{key}", stream, payload, settings.MAAS_USAGE_DEDUPE_SECONDS
    )
    return UsageRecordResult(recorded=bool(added), sink="stream")


def drain_usage_stream(*, batch_size: int = 1000, claim_idle_ms: int = 30_000) -> int:
    """Moves events from the Redis stream into the database; returns how many were new.

    An entry is acknowledged and deleted only after the transaction holding its row commits.
    A drainer killed in between leaves it pending; the next drain claims pending entries idle
    for `claim_idle_ms` and inserts them again, which ON CONFLICT turns into a no-op.
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
    inserted = 0
    start = "0-0"
    while True:  # first, entries a dead drainer read but never acknowledged
        start, claimed, *_ = client.xautoclaim(
            stream, GROUP, consumer, min_idle_time=claim_idle_ms, start_id=start, count=batch_size
        )
        inserted += _process(client, stream, claimed)
        if start in (b"0-0", "0-0"):
            break
    while True:
        response = client.xreadgroup(GROUP, consumer, {stream: ">"}, count=batch_size)
        entries = response[0][1] if response else []
        if not entries:
            break
        inserted += _process(client, stream, entries)
    return inserted


def _process(client, stream: str, entries) -> int:
    entries = [(entry_id, fields) for entry_id, fields in entries if fields]
    if not entries:
        return 0
    events = [orjson.loads(fields[b"e"]) for _, fields in entries]
    with transaction.atomic():
        inserted = insert_events(_of_existing_tenants(events))
    ids = [entry_id for entry_id, _ in entries]
    client.xack(stream, GROUP, *ids)
    client.xdel(stream, *ids)
    return inserted


def drain_usage_inbox(*, batch_size: int = 1000) -> int:
    """Moves events from the inbox into the database; returns how many were new.

    The inbox remembers how far it was drained only after the transaction holding a batch
    commits; a drainer killed in between leaves the batch to the next drain, whose insert of
    it is a no-op."""

    def insert(events: list[dict]) -> int:
        with transaction.atomic():
            return insert_events(_of_existing_tenants(events))

    return inbox_drain(insert, batch_size)


def _of_existing_tenants(events: list[dict]) -> list[dict]:
    """Events of a tenant deleted since they were recorded cannot be stored (and must not block
    the stream); they are logged and dropped with their tenant."""
    from tenants.selectors import tenant_ids_existing

    wanted = {e["t"] for e in events}
    existing = tenant_ids_existing(wanted)
    for tenant_id in wanted - existing:
        log.warning("dropping usage of deleted tenant %s", tenant_id)
    return [e for e in events if e["t"] in existing]
