"""Per-tenant request rate limits: fixed one-minute windows.

With `REDIS_URL` set, counters live in Redis: one script call per request counts it, sets the
counter's expiry, and returns the hot-path cache generation (maas.generation) in the same round
trip. The call is made when the count is first needed (`PendingCount.state`), which on the
predict path is after the model has run, and it can carry one tally entry (the request's usage,
added to a sum in a hash: billing.usage) that the script adds only if the request is within the
limit and the generation is the one the request trusted: a prediction then costs one Redis
command. Without Redis (the
embedded default) counts live in the database, shared by every process, but a process does not
write every request there: it counts locally and adds its count to the shared row when it has
used a quarter of what was left at its last sync, or after a second. Near the limit that is
every request (exact); far from it, one write a second per process instead of one per request,
which on SQLite is the difference between serving in parallel and queueing on the write lock.
With P processes a window can overshoot by at most P/4 of what was left, and only while far
from the limit.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connection

from maas.db import write_unless_locked
from maas.generation import generation_read
from maas.models import RateLimitCounter
from maas.redis_calls import RedisScript

WINDOW_SECONDS = 60
SYNC_SECONDS = 1.0
# When the shared row could not be written (SQLite locked by another writer), try again after.
LOCKED_RETRY_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class RateLimitState:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the current window ends
    generation: object = None  # maas.generation's number, read with the count
    tallied: bool = False  # the entry given to `PendingCount.state` was added to its tally

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


@dataclass(frozen=True, slots=True)
class TallyEntry:
    """An amount to add to a sum kept in a Redis hash, in the same round trip as a request's
    count: `amount` is added to `field` and 1 to `"#" + field` (how many amounts it holds)."""

    key: str
    field: bytes
    amount: int


def tally_lua(key: str, field: str, amount: str) -> str:
    """A tally's two increments in Lua (Lua expressions for the hash, field and amount), as the
    count script runs them and as billing.usage runs them alone."""
    return (
        f"redis.call('HINCRBY', {key}, {field}, {amount})\n"
        f"redis.call('HINCRBY', {key}, '#' .. {field}, 1)\n"
    )


# KEYS: counter, generation, [tally]; ARGV: window end, [limit, trusted generation, field, amount]
_COUNT_LUA = f"""
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIREAT', KEYS[1], ARGV[1]) end
local generation = redis.call('GET', KEYS[2]) or '0'
local tallied = 0
if KEYS[3] and count <= tonumber(ARGV[2]) and generation == ARGV[3] then
{tally_lua("KEYS[3]", "ARGV[4]", "ARGV[5]")}
  tallied = 1
end
return {{count, generation, tallied}}
"""
_count_script = RedisScript(_COUNT_LUA, keys=2)
_count_and_tally_script = RedisScript(_COUNT_LUA, keys=3)
# The same answer without counting (a request's second run after a wait: maas.waiting).
_PEEK_LUA = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
return {count, redis.call('GET', KEYS[2]) or '0', 0}
"""
_peek_script = RedisScript(_PEEK_LUA, keys=2)

Count = Callable[[TallyEntry | None, object], tuple[int, object, bool]]


def _redis_count(bucket: str, window_end: int, limit: int, peek: bool = False) -> Count:
    def count(tally: TallyEntry | None, trusted: object) -> tuple[int, object, bool]:
        counter = f"maas:rl:{bucket}"
        if peek:
            n, generation, _ = _peek_script(counter, settings.MAAS_GENERATION_KEY)
            return int(n), generation, False
        if tally is None:
            n, generation, _ = _count_script(counter, settings.MAAS_GENERATION_KEY, window_end + 5)
            return int(n), generation, False
        n, generation, tallied = _count_and_tally_script(
            counter,
            settings.MAAS_GENERATION_KEY,
            tally.key,
            window_end + 5,
            limit,
            b"" if trusted is None else trusted,  # nothing trusted: nothing tallied
            tally.field,
            tally.amount,
        )
        return int(n), generation, bool(tallied)

    return count


@cache
def _upsert_sql() -> str:
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    # One statement, atomic on both SQLite (>= 3.35) and PostgreSQL.
    return (
        f"INSERT INTO {table} (bucket, count, window_end) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (bucket) DO UPDATE SET count = {table}.count + excluded.count "
        "RETURNING count"
    )


@dataclass(slots=True)
class _Window:
    synced: int = 0  # the shared count at the last sync, this process's synced hits included
    pending: int = 0  # hits counted here and not yet added to the shared count
    synced_at: float = float("-inf")


_windows: dict[str, _Window] = {}
_windows_lock = threading.Lock()


def _database_count(bucket: str, window_end: int, limit: int, now: float, peek: bool) -> int:
    with _windows_lock:
        if peek:  # what this process knows, nothing counted
            known = _windows.get(bucket)
            return known.synced + known.pending if known else 0
        window = _windows.get(bucket)
        if window is None:
            if len(_windows) > 10_000:  # old windows of tenants gone quiet
                _windows.clear()
            window = _windows[bucket] = _Window()
        window.pending += 1
        left = limit - window.synced
        if window.pending * 4 < left and now - window.synced_at < SYNC_SECONDS:
            return window.synced + window.pending
        # Marked synced now: the process's other threads count locally until this write is
        # done, instead of each writing the shared row too.
        pending, window.pending, window.synced_at = window.pending, 0, now

    def upsert() -> int:
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql(), [bucket, pending, window_end])
            return int(cursor.fetchone()[0])

    written, shared = write_unless_locked(upsert)
    with _windows_lock:
        if not written:  # another process is writing: counted here, shared a moment later
            window.pending += pending
            window.synced_at = now - SYNC_SECONDS + LOCKED_RETRY_SECONDS
            return window.synced + window.pending
        window.synced, window.synced_at = shared, now
        return shared + window.pending


class PendingCount:
    """A request's count, made when first asked for (`state()`)."""

    def __init__(self, limit: int, reset: int, count: Count):
        self.limit, self.reset, self._count = limit, reset, count
        self._state: RateLimitState | None = None

    @property
    def ready(self) -> bool:
        """Whether state() answers without a round trip (always, without Redis)."""
        return self._state is not None

    def state(self, tally: TallyEntry | None = None, trusted: object = None) -> RateLimitState:
        """The count. With Redis, `tally` rides along and is added to its sum only if the
        request is within the limit and the generation is still `trusted` (`tallied` says
        whether it was). Once counted, later calls answer the same state and add nothing."""
        if self._state is not None:
            return self._state
        count, generation, tallied = self._count(tally, trusted)
        self._state = RateLimitState(
            allowed=count <= self.limit,
            limit=self.limit,
            remaining=max(0, self.limit - count),
            reset_seconds=self.reset,
            generation=generation,
            tallied=tallied,
        )
        return self._state


def rate_limit_start(
    tenant_id: str, limit: int, now: float | None = None, peek: bool = False
) -> PendingCount:
    """Counts one request of the tenant; with Redis the count is made when `state()` is first
    asked for, so that it can share a round trip with the request's usage event. `peek`:
    the state without counting (a request already counted)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    window_end = (window + 1) * WINDOW_SECONDS
    bucket = f"{tenant_id}:{window}"
    reset = max(1, int(window_end - now + 0.999))
    if settings.REDIS_URL:
        return PendingCount(limit, reset, _redis_count(bucket, window_end, limit, peek))
    counted = _database_count(bucket, window_end, limit, now, peek), generation_read(), False
    pending = PendingCount(limit, reset, lambda tally, trusted: counted)
    pending.state()
    return pending


def rate_limit_hit(tenant_id: str, limit: int, now: float | None = None) -> RateLimitState:
    """Counts one request of the tenant and says whether it is within `limit` per minute."""
    return rate_limit_start(tenant_id, limit, now).state()


def purge_rate_limit_counters(now: float | None = None) -> int:
    now = time.time() if now is None else now
    deleted, _ = RateLimitCounter.objects.filter(window_end__lt=now).delete()
    return deleted
