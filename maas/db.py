"""Database helpers the plumbing and the apps share."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection

T = TypeVar("T")


def write_unless_locked(write: Callable[[], T]) -> tuple[bool, T | None]:
    """Runs `write` (one autocommit statement), but on SQLite gives up at once, instead of
    waiting, when another process holds the database's write lock: (False, None) then.

    For writes a request can leave for later (a rate-limit count it keeps locally, the
    once-a-minute `last_used_at`): on the embedded default the billing worker's drain holds
    the write lock for tens of milliseconds every few seconds, and SQLite's busy handler, when
    it meets the lock, sleeps in growing steps (1, 2, 5, 10, ... 100 ms) however soon the lock
    is free: a request waiting there stalled every request queued behind it in its process.
    On PostgreSQL the write runs as it is (row locks held for a statement, not for a drain)."""
    if connection.vendor != "sqlite":
        return True, write()
    with _busy_timeout(0):
        try:
            return True, write()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            return False, None


@contextmanager
def _busy_timeout(milliseconds: int) -> Iterator[None]:
    # On the driver's connection: a setting of the connection, not a query of the request's.
    connection.ensure_connection()
    raw = connection.connection
    raw.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout = {settings.SQLITE_BUSY_TIMEOUT_MS}")
