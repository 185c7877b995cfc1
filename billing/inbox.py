"""The usage inbox: the embedded default's durable sink for events with made-up keys (each
prediction without a client's `Idempotency-Key`), drained by the billing worker into the usage
table exactly as the Redis stream is (billing.usage).

Each process appends one line per event (billing.usage writes it) to a file of its own in the folder
MAAS_USAGE_INBOX, with one write() on a file opened for appending. Once write() has returned
the line is in the operating system's cache: it survives the process being killed, as a
committed SQLite row did. It costs ~2 µs; the SQLite table this replaces cost ~33 µs a row,
and its checkpoints, which fsync, stalled every web process's writes for 60-150 ms every few
seconds under load (docs/serving.md). A file is never fsynced: an operating-system crash loses
the lines not yet written out (seconds of them), and, unlike a database file, leaves nothing
half-written that a later line depends on.

A writer holds a shared flock on its current file for as long as it appends to it (the
kernel drops it when the process dies, however it dies) and starts a new file past
MAX_FILE_BYTES. The drainer, one at a time (an flock of its own), reads each file from the
offset it reached last (a small `.offset` file beside it, written after the database commit),
takes only complete lines (a last line without its newline was never acknowledged), hands
them to billing.drain with the first line's offset (which marks what it stored in the same
transaction, so a batch read twice counts once), and deletes a file once no writer holds it
and it is drained to its end.
"""

import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

MAX_FILE_BYTES = 64 * 1024 * 1024
READ_BYTES = 4 * 1024 * 1024  # read per step of a drain (whole lines of it are taken)
SUFFIX = ".events"


class _Writer:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.pid = folder, os.getpid()
        self.setting: object = folder  # the settings' value it was made for (_writer_current)
        self.fd = -1
        self.size = 0
        self.lock = threading.Lock()
        self._open()

    def _open(self) -> None:
        name = f"{self.pid}-{time.time_ns()}{SUFFIX}"
        fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)  # "a writer appends here" (see the module's docstring)
        if self.fd >= 0:
            os.close(self.fd)  # closing it drops its lock: the drainer may finish the file
        self.fd, self.size = fd, 0

    def append(self, line: bytes) -> None:
        with self.lock:
            if self.size > MAX_FILE_BYTES:
                self._open()
            written = os.write(self.fd, line)
            if written != len(line):  # a full disk: not recorded, and the request fails
                raise OSError(f"usage inbox: wrote {written} of {len(line)} bytes")
            self.size += written


_writer: _Writer | None = None
_writer_lock = threading.Lock()


def _folder() -> Path:
    return Path(settings.MAAS_USAGE_INBOX)


def _writer_current() -> _Writer | None:
    """This process's writer, if it writes to the folder the settings name now."""
    writer = _writer
    if writer is None or writer.pid != os.getpid():
        return None
    setting = settings.MAAS_USAGE_INBOX
    # The same setting object is the same folder: a Path built and compared per event was
    # ~4 µs of an append's ~5.5 on the predict path.
    if writer.setting is not setting and writer.folder != Path(setting):
        return None
    return writer


def inbox_append(event: bytes) -> None:
    """Records one event (a line without its newline) durably for a killed process."""
    global _writer
    writer = _writer_current()
    if writer is None:
        with _writer_lock:  # a new process (a fork) or folder gets a file of its own
            writer = _writer_current()
            if writer is None:
                setting = settings.MAAS_USAGE_INBOX
                writer = _writer = _Writer(Path(setting))
                writer.setting = setting
    writer.append(event + b"\n")


def _offset_path(path: Path) -> Path:
    return path.with_suffix(".offset")


def _offset_read(path: Path) -> int:
    try:
        return int(_offset_path(path).read_text() or 0)
    except FileNotFoundError:
        return 0


def _offset_write(path: Path, offset: int) -> None:
    target = _offset_path(path)
    temporary = target.with_suffix(".offset-new")
    temporary.write_text(str(offset))
    os.replace(temporary, target)  # never half-written


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime_ns)


def _writer_gone(path: Path) -> bool:
    """Whether no process appends to the file any more (its writer moved on or died)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # drops the lock, if taken
    return True


Store = Callable[[str, int, list[bytes]], int]


def inbox_drain(store: Store, forget: Callable[[str], None], batch_size: int = 1000) -> int:
    """Hands every waiting line to `store(file, offset, [line, ...])` (`offset`: the first
    line's; it stores the lines not stored before in one transaction and returns how many),
    `batch_size` lines at a time, and
    calls `forget(file)` once a file is drained and deleted; returns the total stored."""
    folder = _folder()
    if not folder.is_dir():
        return 0
    inserted = 0
    lock = os.open(folder / ".drain.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one drainer at a time
        for path in _files(folder):
            inserted += _drain_file(path, store, forget, batch_size)
    finally:
        os.close(lock)
    return inserted


def _drain_file(path: Path, store: Store, forget: Callable[[str], None], batch_size: int) -> int:
    inserted = 0
    offset = _offset_read(path)
    gone = _writer_gone(path)  # before reading: a gone writer appends nothing more
    with path.open("rb") as source:
        source.seek(offset)
        while chunk := source.read(READ_BYTES):
            whole = chunk[: chunk.rfind(b"\n") + 1]
            if not whole:
                break  # a line not yet complete (or never to be: its writer died mid-line)
            lines = whole.splitlines(keepends=True)
            for start in range(0, len(lines), batch_size):
                batch = lines[start : start + batch_size]
                inserted += store(path.name, offset, batch)
                offset += sum(map(len, batch))
                _offset_write(path, offset)  # after the commit: a kill before it redoes them
            source.seek(offset)
    if gone:
        path.unlink()
        _offset_path(path).unlink(missing_ok=True)
        forget(path.name)
    return inserted


def inbox_backlog() -> tuple[int, bytes | None]:
    """Events waiting to be drained, and the oldest one's line (None: none waiting)."""
    folder = _folder()
    waiting, oldest = 0, None
    if not folder.is_dir():
        return 0, None
    for path in _files(folder):
        try:
            offset = _offset_read(path)
            with path.open("rb") as source:
                source.seek(offset)
                rest = source.read()
        except FileNotFoundError:  # drained and deleted meanwhile
            continue
        lines = rest[: rest.rfind(b"\n") + 1].splitlines()
        waiting += len(lines)
        if oldest is None and lines:
            oldest = lines[0]
    return waiting, oldest
