"""Recording usage: exactly once per (tenant, idempotency_key), durable before the caller answers.

Three sinks, chosen per call:
- database: one `INSERT ... ON CONFLICT DO NOTHING` into billing_usageevent. Used whenever the
  caller is inside a transaction (a job's usage commits or rolls back with the job), or when
  MAAS_USAGE_SINK says so.
- inbox (the embedded default, without Redis): for an event with a made-up key (`new_key`), one
  line appended to a file of the process's own (billing.inbox), drained into the same table
  with the same ON CONFLICT rule; an event with a caller's key goes to the database, whose
  unique key says at once whether it is a repeat.
- stream (with `REDIS_URL`): for an event with a made-up key, one round trip adding its quantity
  to a sum per tenant, meter, dimensions and minute in a Redis hash, the usage *tally*
  (`HINCRBY`, and 1 to the sum's event count); predictions are thousands a second and nothing
  prices them one by one. For an event with a caller's key, one round trip running a Lua script
  that claims the key (`SET NX`, kept MAAS_USAGE_DEDUPE_SECONDS) and appends the event to a
  stream (`XADD`). Redis runs with AOF, so either survives the web process being killed right
  after it answers. A `billing` worker drains both into the same table (billing.drain): the
  tally's sums under keys naming the drained hash, the stream's events with the same ON
  CONFLICT rule, so the database stays the one arbiter of "exactly once" (a key whose Redis
  claim expired and is retried is still counted once).
See docs/billing.md for the measurements behind the choice.
"""

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing.inbox import inbox_append
from billing.meters import Meter, get_meter
from billing.models import UsageEvent
from maas.ratelimit import TallyEntry, tally_lua
from maas.redis_calls import RedisScript

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

    @property
    def payload(self) -> bytes:
        """The event as the stream and the inbox carry it."""
        return _event(
            self.tenant_id,
            self.meter,
            self.minor,
            self.idempotency_key,
            self.occurred_at,
            self.dims,
            self.new_key,
        )

    @property
    def tally_entry(self) -> TallyEntry | None:
        """The event as an addition to the usage tally, when recording it would be that one
        addition (the stream sink, outside a transaction, a key no repeat can come with): the
        caller may then add it in a round trip it makes anyway (maas.admission) and skip
        `usage_commit`. None otherwise."""
        if not self.new_key or _sink() != "stream":
            return None
        return TallyEntry(usage_tally_key(), self.tally_field, self.minor)

    @property
    def tally_field(self) -> bytes:
        """The sum this event is added to (`tally_field`)."""
        return tally_field(self.tenant_id, self.meter, self.occurred_at, self.dims)

    @property
    def inbox_line(self) -> bytes:
        """The event as the inbox keeps it: a tally line when its key was made up (the drain
        sums those without reading them as JSON), else its JSON."""
        if self.new_key:
            return b"+%s %d" % (self.tally_field, self.minor)
        return self.payload

    def commit(self) -> "UsageRecordResult":
        """Records the event (`usage_commit`)."""
        return usage_commit(self)


def tally_field(tenant_id: str, meter: str, occurred_at: datetime, dims: dict[str, str]) -> bytes:
    """What events with made-up keys are summed by, in the Redis tally and the inbox: tenant,
    meter, UTC minute and dimensions, as JSON (billing.drain reads it back)."""
    minute = occurred_at.astimezone(UTC).replace(second=0, microsecond=0)
    return orjson.dumps([tenant_id, meter, minute.isoformat(), dims])


def inbox_line_read(line: bytes) -> dict[str, Any] | tuple[bytes, int]:
    """An inbox line back (`PreparedUsage.inbox_line`): a tally line as (field, quantity), an
    event as its dict."""
    if line[:1] == b"+":
        field, _, quantity = line[1:].rstrip(b"\n").rpartition(b" ")
        return field, int(quantity)
    return orjson.loads(line)


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
    return PreparedUsage(tenant_id, meter, minor, idempotency_key, occurred_at, dims, new_key)


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
    key), so no repeat can come: the event may be stored summed with others (the inbox's
    drain, the Redis tally), and needs no dedupe claim, which would otherwise keep one Redis key
    per prediction for MAAS_USAGE_DEDUPE_SECONDS."""
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
        inbox_append(usage.inbox_line)
        return UsageRecordResult(recorded=True, sink=sink)
    if usage.new_key:
        _tally_script(usage_tally_key(), usage.tally_field, usage.minor)
        return UsageRecordResult(recorded=True, sink=sink)
    return _record_in_stream(usage.tenant_id, usage.idempotency_key, usage.payload)


def _event(tenant_id, meter, minor, key, occurred_at, dims, new_key) -> bytes:
    """An event as the stream and the inbox carry it (billing.drain reads it back). `"n"`: its
    key was made up, so the drain may store it summed with others (billing.drain)."""
    event = {"t": tenant_id, "m": meter, "q": minor, "k": key, "o": occurred_at.isoformat()}
    event["d"] = dims
    if new_key:
        event["n"] = 1
    return orjson.dumps(event)


# --- database sink -----------------------------------------------------------------------------


_ROW_PLACEHOLDERS = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
_BATCH_ROWS = 500  # 5,000 parameters: within SQLite's limit of 32,766


@cache
def _insert_sql(rows: int = 1) -> str:
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    return (
        f"INSERT INTO {table} (tenant_id, meter, quantity, idempotency_key, occurred_at, "  # noqa: S608
        "recorded_at, dimensions, dims_key, rolled_up, event_count) VALUES "
        + ", ".join([_ROW_PLACEHOLDERS] * rows)
        + " ON CONFLICT (tenant_id, idempotency_key) DO NOTHING"
    )


def _row(tenant_id, meter, minor, key, occurred_at, dims, dims_key, now, count=1) -> list:
    """`now`: the recorded_at, already adapted for the database (one value for a batch);
    `count`: how many events the row sums (billing.drain)."""
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
        count,
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
    """Inserts drained events (dicts as the stream carries them, `"c"`: how many events one
    sums, billing.drain); returns how many rows were new."""
    now = _now_adapted()
    params = []
    for e in rows:
        meter = get_meter(e["m"])
        dims, dims_key = canonical_dimensions(meter, e.get("d"))
        occurred = datetime.fromisoformat(e["o"])
        count = int(e.get("c", 1))
        params.append(
            _row(e["t"], e["m"], int(e["q"]), e["k"], occurred, dims, dims_key, now, count)
        )
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
_tally_script = RedisScript(tally_lua("KEYS[1]", "ARGV[1]", "ARGV[2]"), keys=1)


def usage_tally_key() -> str:
    """The Redis hash that sums events with made-up keys until the drain takes it."""
    return f"{settings.MAAS_USAGE_STREAM}:tally"


def _record_in_stream(tenant_id: str, key: str, payload: bytes) -> UsageRecordResult:
    stream = settings.MAAS_USAGE_STREAM
    # If a reply is lost after the script ran, a retry finds the key claimed and answers "not
    # recorded": the event is still counted exactly once.
    added = _record_script(
        f"{stream}:key:{tenant_id}:{key}", stream, payload, settings.MAAS_USAGE_DEDUPE_SECONDS
    )
    return UsageRecordResult(recorded=bool(added), sink="stream")
