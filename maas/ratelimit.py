"""Per-tenant request rate limits: fixed one-minute windows.

With `REDIS_URL` set, counters live in Redis (INCR + EXPIRE in one round trip), shared by every
process. Without it (the embedded default) they live in the database with one atomic upsert, so
two gunicorn workers still share one count.
"""

import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connection

from maas.models import RateLimitCounter

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class RateLimitState:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the current window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


class RedisCounter:
    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)

    def incr(self, bucket: str, window_end: int) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.incr(f"maas:rl:{bucket}")
        pipe.expireat(f"maas:rl:{bucket}", window_end + 5)
        count, _ = pipe.execute()
        return int(count)


class DatabaseCounter:
    def __init__(self) -> None:
        table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
        # One statement, atomic on both SQLite (>= 3.35) and PostgreSQL.
        self.sql = (
            f"INSERT INTO {table} (bucket, count, window_end) VALUES (%s, 1, %s) "  # noqa: S608
            "ON CONFLICT (bucket) DO UPDATE SET count = "
            f"{table}.count + 1 RETURNING count"
        )

    def incr(self, bucket: str, window_end: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [bucket, window_end])
            return int(cursor.fetchone()[0])


@cache
def _counter() -> RedisCounter | DatabaseCounter:
    if settings.REDIS_URL:
        return RedisCounter(settings.REDIS_URL)
    return DatabaseCounter()


def rate_limit_hit(tenant_id: str, limit: int, now: float | None = None) -> RateLimitState:
    """Counts one request of the tenant and says whether it is within `limit` per minute."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    window_end = (window + 1) * WINDOW_SECONDS
    count = _counter().incr(f"{tenant_id}:{window}", window_end)
    reset = max(1, int(window_end - now + 0.999))
    return RateLimitState(
        allowed=count <= limit, limit=limit, remaining=max(0, limit - count), reset_seconds=reset
    )


def purge_rate_limit_counters(now: float | None = None) -> int:
    now = time.time() if now is None else now
    deleted, _ = RateLimitCounter.objects.filter(window_end__lt=now).delete()
    return deleted
