"""One number that changes whenever a row the hot path caches changes, in any process.

The predict path caches, per process, what it would otherwise read on every request: the API key
with its tenant, and the model version it serves. Each entry is tagged with the generation read
before its rows were loaded, and is used only while the generation is still the same: any write
to a key, a tenant, a model or a version bumps it (the apps connect `bump_on_change`), so
the next request in every process reloads. A revoked key therefore fails on the very next
request everywhere, as it did when every request read the key's row.

Where the number lives:
- embedded (no Redis): a stamp in a file under MAAS_DATA_DIR, set forward on each bump and
  mapped into every process's memory: reading it is a memory read (_SharedStamp).
- with Redis: the integer at MAAS_GENERATION_KEY, which the rate-limit script returns in the
  same round trip as the request count (maas.ratelimit), so checking it costs nothing extra.

A bump happens at once and again when the transaction commits: the first makes tests (which
never commit) and readers that load before the commit see a change, the second makes sure no
process keeps rows it read before the commit under the new number.
"""

import fcntl
import mmap
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
    return _stamp.read()


class _SharedStamp:
    """The embedded generation: 8 bytes (a nanosecond stamp) in a file under MAAS_DATA_DIR,
    mapped into each process's memory, so that reading it is a memory read.

    It used to be the file's modification time, read with stat(): a system call that lets go
    of the GIL, on every prediction (maas.random_pool says why that costs under load). Bumps
    write the bytes in place (`pwrite`) under an exclusive flock, so two never write the same
    stamp; every mapping of the file sees them at once. A reader that catches a bump half
    written sees a number that is neither the old nor the new one, which is only one more
    reload. Once a second a reader checks that the file is still the one it mapped (a file
    deleted and made again would otherwise never be seen)."""

    CHECK_SECONDS = 1.0

    def __init__(self) -> None:
        self.map: mmap.mmap | None = None
        self.inode = 0
        self.checked = 0.0

    def read(self) -> tuple[int, bytes]:
        now = time.monotonic()
        if self.map is None or now - self.checked > self.CHECK_SECONDS:
            self._check(now)
        return self.inode, self.map[:8]

    def _check(self, now: float) -> None:
        self.checked = now
        try:
            if self.map is not None and os.stat(_path()).st_ino == self.inode:
                return
        except FileNotFoundError:
            pass
        fd = _stamp_open()
        try:
            self.map = mmap.mmap(fd, 8, mmap.MAP_SHARED, mmap.PROT_READ)
            self.inode = os.fstat(fd).st_ino
        finally:
            os.close(fd)


def _stamp_open() -> int:
    """The stamp file, opened for reading and writing; made (zero) if missing."""
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if os.fstat(fd).st_size < 8:
        os.ftruncate(fd, 8)  # zeros; a file another process has already written keeps its bytes
    return fd


_stamp = _SharedStamp()


def _bump_now() -> None:
    if settings.REDIS_URL:
        from maas.redis_calls import redis_call

        redis_call("INCR", settings.MAAS_GENERATION_KEY)
        return
    fd = _stamp_open()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        previous = int.from_bytes(os.pread(fd, 8, 0), "little")
        # Strictly forward, so two bumps within the clock's resolution still read as two.
        os.pwrite(fd, max(time.time_ns(), previous + 1).to_bytes(8, "little"), 0)
    finally:
        os.close(fd)  # and with it the lock


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
