"""One number that changes whenever a row the hot path caches changes, in any process.

The predict path caches, per process, what it would otherwise read on every request: the API key
with its tenant, and the model version it serves. Each entry is tagged with the generation read
before its rows were loaded, and is used only while the generation is still the same: any write
to a key, a tenant, a model or a version bumps it (the apps connect `bump_on_change`), so
the next request in every process reloads. A revoked key therefore fails on the very next
request everywhere, as it did when every request read the key's row.

Where the number lives:
- embedded (no Redis): the modification time (ns) of a file under MAAS_DATA_DIR, set forward on
  each bump; reading it is one stat() (~1 µs).
- with Redis: the integer at MAAS_GENERATION_KEY, which the rate-limit script returns in the
  same round trip as the request count (maas.ratelimit), so checking it costs nothing extra.

A bump happens at once and again when the transaction commits: the first makes tests (which
never commit) and readers that load before the commit see a change, the second makes sure no
process keeps rows it read before the commit under the new number.
"""

import os
import time
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import transaction


@cache
def _path() -> Path:
    return Path(settings.DATA_DIR) / "hot-generation"


def generation_read() -> object:
    """The current generation: compare with ==, never order."""
    if settings.REDIS_URL:
        from maas.redis_calls import redis_call

        return redis_call("GET", settings.MAAS_GENERATION_KEY) or b"0"
    try:
        stat = os.stat(_path())
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns)


def _bump_now() -> None:
    if settings.REDIS_URL:
        from maas.redis_calls import redis_call

        redis_call("INCR", settings.MAAS_GENERATION_KEY)
        return
    path = _path()
    try:
        previous = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        previous = 0
    # Set explicitly, never left to the file system's coarse clock: strictly forward, so two
    # bumps within a millisecond still read as two changes.
    stamp = max(time.time_ns(), previous + 1)
    os.utime(path, ns=(stamp, stamp))


def generation_bump() -> None:
    """Invalidates every process's hot-path cache, now and when the transaction commits."""
    _bump_now()
    transaction.on_commit(_bump_now)


class GenerationCache:
    """A bounded per-process mapping whose entries hold only while the generation they were
    loaded under is current. Load under the generation read *before* reading the rows."""

    def __init__(self, max_entries: int = 10_000):
        self.max_entries = max_entries
        self._entries: dict = {}
        self._generation: object = None
        _caches.append(self)

    @property
    def generation(self) -> object:
        """The generation the entries were loaded under."""
        return self._generation

    def peek(self, key):
        """The entry whatever its generation; call `valid` before trusting it."""
        return self._entries.get(key)

    def valid(self, generation: object) -> bool:
        """Whether entries are current under `generation`; if not, drops them all."""
        if generation == self._generation:
            return True
        self._entries, self._generation = {}, generation
        return False

    def get(self, key, generation: object):
        return self._entries.get(key) if self.valid(generation) else None

    def put(self, key, value, generation: object) -> None:
        entries = self._entries
        if generation != self._generation or len(entries) >= self.max_entries:
            entries, self._generation = {}, generation
        entries[key] = value
        self._entries = entries

    def clear(self) -> None:
        self._entries, self._generation = {}, None


_caches: list[GenerationCache] = []


def hot_caches_clear() -> None:
    """Empties every GenerationCache of this process (tests start each from nothing)."""
    for cache_ in _caches:
        cache_.clear()


def bump_on_change(*models) -> None:
    """Bumps the generation whenever a row of one of `models` is saved or deleted (admin, ORM,
    cascades). `QuerySet.update()` sends no signal: callers that update such rows in bulk call
    generation_bump() themselves."""
    from django.db.models.signals import post_delete, post_save

    for model in models:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"generation:save:{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"generation:delete:{model}")


def _on_change(sender, **kwargs) -> None:
    generation_bump()
