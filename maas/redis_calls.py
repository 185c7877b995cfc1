"""Redis calls on the hot path: one dedicated connection per process and thread.

redis-py's pool, retry and Script wrappers cost ~50 µs of CPU per call on this machine, several
times the predict path's own work for a row; these calls send the command on a connection of
their own and read the reply. A connection is never shared across a fork (gunicorn and Celery
fork after import): a new process opens its own. Scripts go by EVALSHA and are loaded on first
use (or after Redis restarted).

Each call waits for its reply. The predict path makes one, after the model has run: the
rate-limit count, the cache generation and the usage event in one script (maas.ratelimit;
before, the count was sent on arrival and read after the model, and the event was a second
command: docs/serving.md, "One Redis command per prediction"). Parking the request on the
reply, so that the process serves others meanwhile, was measured and not kept: it lengthened
the tail (docs/serving.md, "Stalls").
"""

import hashlib
import os
import threading
from functools import cache
from typing import Any

from django.conf import settings


@cache
def redis_client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


_local = threading.local()


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None or _local.pid != os.getpid():
        conn = redis_client().connection_pool.make_connection()
        _local.conn, _local.pid = conn, os.getpid()
    return conn


def redis_call(*command: Any) -> Any:
    """Sends one command and returns its reply; reconnects and retries once on a lost connection.

    Only for commands that are safe to repeat or whose repeat the caller tolerates (a counter
    counted twice after a lost reply; a script whose own key makes a repeat a no-op)."""
    import redis

    for attempt in range(2):
        conn = _connection()
        try:
            conn.send_command(*command)
            return conn.read_response()
        except (redis.ConnectionError, redis.TimeoutError):
            conn.disconnect()
            _local.conn = None
            if attempt == 1:
                raise
    raise RuntimeError("unreachable")


class RedisScript:
    """A Lua script called by EVALSHA on the hot-path connection."""

    def __init__(self, source: str, keys: int):
        self.source = source
        self.keys = keys
        self.sha = hashlib.sha1(source.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)

    def __call__(self, *keys_and_args: Any) -> Any:
        import redis

        try:
            return redis_call("EVALSHA", self.sha, self.keys, *keys_and_args)
        except redis.exceptions.NoScriptError:  # first use, or Redis restarted
            redis_client().script_load(self.source)
            return redis_call("EVALSHA", self.sha, self.keys, *keys_and_args)
