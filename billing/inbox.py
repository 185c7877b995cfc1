"""The usage inbox: the embedded default's durable sink for usage recorded outside a transaction.

A small SQLite file of its own (MAAS_USAGE_INBOX), one row per event keyed by (tenant,
idempotency key), drained by the billing worker into the usage table exactly as the Redis stream
is (billing.usage). Why not the usage table itself: an insert there updates five indexes, a
foreign key and a sequence, ~130 µs per prediction on this machine, under the write lock that
every other writer of the main database shares; a row here costs ~15 µs under a lock of its own.
A committed row survives the process being killed (WAL, synchronous=NORMAL), so the usage is
durable before the predict request answers.

Writers take an flock on a file beside it before writing: SQLite's own busy handler sleeps a
millisecond or more when it meets a lock, while an flock waiter wakes the moment the lock is
released, which keeps concurrent predict workers from stalling each other.
"""

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS inbox (tenant_id TEXT NOT NULL, key TEXT NOT NULL, "
    "event BLOB NOT NULL, PRIMARY KEY (tenant_id, key)) WITHOUT ROWID"
)

_local = threading.local()


class _Inbox:
    def __init__(self, path: str):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=10)
        # Under the lock: switching a new file to WAL needs it to itself, and SQLite answers
        # "database is locked" at once, without waiting, when two processes try together.
        with self.locked():
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(_SCHEMA)
        self.db.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def locked(self) -> Iterator[None]:
        fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self.lock_fd, fcntl.LOCK_UN)


def _inbox() -> _Inbox:
    """This process's and thread's connection (never shared across a fork or between threads)."""
    path = str(settings.MAAS_USAGE_INBOX)
    inbox = getattr(_local, "inbox", None)
    if inbox is None or _local.pid != os.getpid() or inbox.path != path:
        inbox = _Inbox(path)
        _local.inbox, _local.pid = inbox, os.getpid()
    return inbox


def inbox_put(tenant_id: str, key: str, event: bytes) -> bool:
    """Stores one event; False when this (tenant, key) is already waiting in the inbox."""
    inbox = _inbox()
    with inbox.locked():
        cursor = inbox.db.execute(
            "INSERT OR IGNORE INTO inbox (tenant_id, key, event) VALUES (?, ?, ?)",
            (tenant_id, key, event),
        )
    return cursor.rowcount == 1


def inbox_take(limit: int) -> list[tuple[str, str, bytes]]:
    """Up to `limit` waiting events (they stay until inbox_delete)."""
    return (
        _inbox().db.execute("SELECT tenant_id, key, event FROM inbox LIMIT ?", (limit,)).fetchall()
    )


def inbox_delete(keys: list[tuple[str, str]]) -> None:
    inbox = _inbox()
    with inbox.locked():
        inbox.db.execute("BEGIN IMMEDIATE")
        try:
            inbox.db.executemany("DELETE FROM inbox WHERE tenant_id = ? AND key = ?", keys)
        except BaseException:
            inbox.db.execute("ROLLBACK")
            raise
        inbox.db.execute("COMMIT")
        inbox.db.execute("PRAGMA wal_checkpoint(PASSIVE)")


def inbox_size() -> int:
    return _inbox().db.execute("SELECT count(*) FROM inbox").fetchone()[0]


def inbox_oldest() -> bytes | None:
    """The event that has waited longest (None: the inbox is empty)."""
    row = _inbox().db.execute("SELECT event FROM inbox ORDER BY rowid LIMIT 1").fetchone()
    return row[0] if row else None
