"""maas.db.write_unless_locked: on SQLite a write another process holds the lock for is given up
at once, not waited for in SQLite's sleeping busy handler."""

import sqlite3
import time

import pytest
from django.db import connection

from maas.db import write_unless_locked
from maas.models import RateLimitCounter
from maas.ratelimit import rate_limit_hit

pytestmark = pytest.mark.django_db(transaction=True)

needs_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL writes as they are"
)


def other_writer() -> sqlite3.Connection:
    """Another connection to the same database file, holding its write lock."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


@needs_sqlite
def test_a_locked_write_is_given_up_at_once_and_done_when_the_lock_is_free():
    def write() -> int:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS t_db_probe (x INTEGER)")
            cursor.execute("INSERT INTO t_db_probe VALUES (1)")
        return 1

    other = other_writer()
    try:
        started = time.monotonic()
        assert write_unless_locked(write) == (False, None)
        assert time.monotonic() - started < 0.5  # not the 10 s busy timeout
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert write_unless_locked(write) == (True, 1)


@needs_sqlite
def test_a_rate_limit_count_goes_on_locally_while_the_database_is_locked(monkeypatch):
    from maas import ratelimit

    monkeypatch.setattr(ratelimit, "SYNC_SECONDS", 0.0)  # every hit wants to share its count
    # A second into the current window, so that `now + 0.1` below is in the same one (with
    # time.time(), a run within 0.1 s of a minute's end counted in two windows).
    now = time.time() // ratelimit.WINDOW_SECONDS * ratelimit.WINDOW_SECONDS + 1
    assert rate_limit_hit("ten_lock", 100, now=now).remaining == 99
    other = other_writer()
    try:
        states = [rate_limit_hit("ten_lock", 100, now=now) for _ in range(3)]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [s.remaining for s in states] == [98, 97, 96]  # counted here meanwhile
    rate_limit_hit("ten_lock", 100, now=now + 0.1)
    assert RateLimitCounter.objects.get().count == 5  # and shared once the lock was free
