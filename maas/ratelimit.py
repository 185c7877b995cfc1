"""Per-tenant request rate limits: fixed one-minute windows.

With `REDIS_URL` set, counters live in Redis: one script call per request counts it, sets the
counter's expiry, and returns the hot-path cache generation (maas.generation) in the same round
trip; `rate_limit_start` sends it without waiting for the answer. Without Redis (the embedded
default) counts live in the database, shared by every process, but a process does not write
every request there: it counts locally and adds its count to the shared row when it has used a
quarter of what was left at its last sync, or after a second. Near the limit that is every
request (exact); far from it, one write a second per process instead of one per request, which
on SQLite is the difference between serving in parallel and queueing on the write lock. With P
processes a window can overshoot by at most P/4 of what was left, and only while far from the
limit.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connection

from maas.generation import generation_read
from maas.models import RateLimitCounter
from maas.redis_calls import RedisScript

WINDOW_SECONDS = 60
SYNC_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class RateLimitState:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the current window ends
    generation: object = None  # maas.generation's number, read with the count

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


_COUNT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIREAT', KEYS[1], ARGV[1]) end
return {count, redis.call('GET', KEYS[2])}
"""
_count_script = RedisScript(_COUNT_LUA, keys=2)


def _redis_count_send(bucket: str, window_end: int) -> Callable[[], tuple[int, object]]:
    result = _count_script.send(f"maas:rl:{bucket}", settings.MAAS_GENERATION_KEY, window_end + 5)

    def count_and_generation() -> tuple[int, object]:
        count, generation = result()
        return int(count), generation or b"0"

    return count_and_generation


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


def _database_count(bucket: str, window_end: int, limit: int, now: float) -> int:
    with _windows_lock:
        window = _windows.get(bucket)
        if window is None:
            if len(_windows) > 10_000:  # old windows of tenants gone quiet
                _windows.clear()
            window = _windows[bucket] = _Window()
        window.pending += 1
        left = limit - window.synced
        if window.pending * 4 < left and now - window.synced_at < SYNC_SECONDS:
            return window.synced + window.pending
        pending, window.pending = window.pending, 0
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), [bucket, pending, window_end])
        shared = int(cursor.fetchone()[0])
    with _windows_lock:
        window.synced, window.synced_at = shared, now
        return shared + window.pending


class PendingCount:
    """A request's count, perhaps still on its way back from Redis: `state()` waits for it."""

    def __init__(self, limit: int, reset: int, count: Callable[[], tuple[int, object]]):
        self.limit, self.reset, self._count = limit, reset, count
        self._state: RateLimitState | None = None

    @property
    def ready(self) -> bool:
        """Whether state() answers without waiting (always, without Redis)."""
        return self._state is not None

    def state(self) -> RateLimitState:
        if self._state is None:
            count, generation = self._count()
            self._state = RateLimitState(
                allowed=count <= self.limit,
                limit=self.limit,
                remaining=max(0, self.limit - count),
                reset_seconds=self.reset,
                generation=generation,
            )
        return self._state


def rate_limit_start(tenant_id: str, limit: int, now: float | None = None) -> PendingCount:
    """Counts one request of the tenant; with Redis the count is sent now and its answer read
    when `state()` is first asked for, so the round trip overlaps the request's own work."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    window_end = (window + 1) * WINDOW_SECONDS
    bucket = f"{tenant_id}:{window}"
    reset = max(1, int(window_end - now + 0.999))
    if settings.REDIS_URL:
        return PendingCount(limit, reset, _redis_count_send(bucket, window_end))
    counted = _database_count(bucket, window_end, limit, now), generation_read()
    pending = PendingCount(limit, reset, lambda: counted)
    pending.state()
    return pending


def rate_limit_hit(tenant_id: str, limit: int, now: float | None = None) -> RateLimitState:
    """Counts one request of the tenant and says whether it is within `limit` per minute."""
    return rate_limit_start(tenant_id, limit, now).state()


def purge_rate_limit_counters(now: float | None = None) -> int:
    now = time.time() if now is None else now
    deleted, _ = RateLimitCounter.objects.filter(window_end__lt=now).delete()
    return deleted
