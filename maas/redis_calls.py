"""Redis calls on the hot path: one dedicated connection per process and thread.

redis-py's pool, retry and Script wrappers cost ~50 µs of CPU per call on this machine, several
times the predict path's own work for a row; these calls send the command on a connection of
their own and read the reply. A connection is never shared across a fork (gunicorn and Celery
fork after import): a new process opens its own. Scripts go by EVALSHA and are loaded on first
use (or after Redis restarted).

A command can also be sent now and its reply read later (`redis_send`): a round trip costs
~90 µs of waiting on this machine, and the predict path sends its rate-limit count when the
request arrives and reads the answer after the model has run. Replies come back in order, so
any later call first reads every reply still due on the connection.
"""

import hashlib
import os
import threading
from collections import deque
from collections.abc import Callable
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
        _local.conn, _local.pid, _local.due = conn, os.getpid(), deque()
    return conn


def _drop_connection(error: Exception) -> None:
    conn = getattr(_local, "conn", None)
    if conn is not None:
        conn.disconnect()
    for reply in getattr(_local, "due", ()):
        reply.fail(error)
    _local.conn, _local.due = None, deque()


class RedisReply:
    """The reply to a command sent with `redis_send`, read from the connection when asked for."""

    __slots__ = ("_done", "_error", "_value")

    def __init__(self) -> None:
        self._done, self._value, self._error = False, None, None

    def fail(self, error: Exception) -> None:
        self._done, self._error = True, error

    def result(self) -> Any:
        if not self._done:
            _read_through(self)
        if self._error is not None:
            raise self._error
        return self._value


def _read_through(target: RedisReply | None) -> None:
    """Reads the replies due on this thread's connection, in order, up to `target` (all of them
    when None)."""
    import redis

    due: deque = getattr(_local, "due", deque())
    while due:
        reply = due.popleft()
        try:
            reply._value = _local.conn.read_response()
            reply._done = True
        except redis.ResponseError as exc:  # a reply, read whole: the connection is in step
            reply.fail(exc)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            reply.fail(exc)
            _drop_connection(exc)
            return
        if reply is target:
            return


def redis_send(*command: Any) -> RedisReply:
    """Sends one command; its reply is read by `.result()` (or by the next call)."""
    import redis

    reply = RedisReply()
    conn = _connection()
    try:
        conn.send_command(*command)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        reply.fail(exc)
        _drop_connection(exc)
        return reply
    _local.due.append(reply)
    return reply


def redis_call(*command: Any) -> Any:
    """Sends one command and returns its reply; reconnects and retries once on a lost connection.

    Only for commands that are safe to repeat or whose repeat the caller tolerates (a counter
    counted twice after a lost reply; a script whose own key makes a repeat a no-op)."""
    import redis

    for attempt in range(2):
        _connection()  # after a fork: this process's own connection, with no replies due
        _read_through(None)
        conn = _connection()  # reading may have found the connection broken and dropped it
        try:
            conn.send_command(*command)
            return conn.read_response()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            _drop_connection(exc)
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

    def send(self, *keys_and_args: Any) -> Callable[[], Any]:
        """Sends a call now; returns a function that gives its result (running the script again,
        in step, if the early send met a Redis without it or a broken connection)."""
        import redis

        reply = redis_send("EVALSHA", self.sha, self.keys, *keys_and_args)

        def result() -> Any:
            try:
                return reply.result()
            except (redis.exceptions.NoScriptError, redis.ConnectionError, redis.TimeoutError):
                return self(*keys_and_args)

        return result
