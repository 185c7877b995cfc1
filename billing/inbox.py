"""The usage inbox: the embedded default's durable sink for events with made-up keys (each
prediction without a client's `Idempotency-Key`), drained by the billing worker into the usage
table exactly as the Redis stream is (billing.usage).

Each process appends one line per event (billing.usage writes it) to a file of its own in the
folder MAAS_USAGE_INBOX, by copying it into the file's pages, mapped into the process's memory
(mmap). Once copied, the line is in the operating system's cache: it survives the process being
killed, as a committed SQLite row did. It costs well under a microsecond and no system call: a
write() per line, as the inbox did until 2026-12-07, cost ~2 µs in a loop and more under load,
because a system call lets go of the GIL (maas.random_pool says why that costs). The SQLite
table before it cost ~33 µs a row, and its checkpoints, which fsync, stalled every web
process's writes for 60-150 ms every few seconds under load (docs/serving.md). A file is never
fsynced: an operating-system crash loses the lines not yet written out (seconds of them), and,
unlike a database file, leaves nothing half-written that a later line depends on.

A writer's file is made MAX_FILE_BYTES long at once, its disk blocks allocated (so a full disk
is an error when a file starts, never a crash in a copy), and is zeros past what was written:
readers take what comes before the first NUL (`_written`). A writer that moves on to a new file
cuts the old one to what it wrote.

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
import mmap
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.conf import settings

MAX_FILE_BYTES = 16 * 1024 * 1024
# Read per step of a drain. A file is MAX_FILE_BYTES long from the start and zeros past what was
# written, and every step copies what it reads: a step of 4 MiB copied ~60 MiB of zeros per
# drain, a burst that cost the web processes beside the worker (docs/serving.md, "Stalls").
READ_BYTES = 256 * 1024
SUFFIX = ".events"


class _Writer:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.pid = folder, os.getpid()
        self.setting: object = folder  # the settings' value it was made for (_writer_current)
        self.fd = -1
        self.map: mmap.mmap | None = None
        self.size = 0
        self.lock = threading.Lock()
        self._open()

    def _open(self) -> None:
        name = f"{self.pid}-{time.time_ns()}{SUFFIX}"
        fd = os.open(self.folder / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # "a writer appends here" (see the module's docstring)
            # The disk blocks are taken now: a full disk fails here, as an OSError the request
            # answers, never later as a SIGBUS in a write to the map.
            os.posix_fallocate(fd, 0, MAX_FILE_BYTES)
            new_map = mmap.mmap(fd, MAX_FILE_BYTES)
        except BaseException:
            os.close(fd)
            raise
        self._close()
        self.fd, self.map, self.size = fd, new_map, 0

    def _close(self) -> None:
        """Cuts the file to what was written, and lets go of it (the drainer may finish it)."""
        if self.map is None:
            return
        self.map.close()
        os.ftruncate(self.fd, self.size)
        os.close(self.fd)  # closing it drops its lock
        self.map, self.fd = None, -1

    def append(self, line: bytes) -> None:
        with self.lock:
            end = self.size + len(line)
            if end > MAX_FILE_BYTES:
                self._open()
                end = len(line)
            self.map[self.size : end] = line
            self.size = end


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


def _written(chunk: bytes) -> bytes:
    """What of `chunk` has been written: the part before the first NUL. A writer's file is
    zeros past what it wrote, and every byte of it is written once, so a byte not yet written
    (or not yet visible here) reads as NUL, and no line holds one."""
    end = chunk.find(b"\0")
    return chunk if end < 0 else chunk[:end]


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
    with path.open("rb", buffering=0) as source:
        for batch in _batches(_whole_lines_written(source.fileno(), offset), batch_size):
            inserted += store(path.name, offset, batch)
            offset += sum(map(len, batch))
            _offset_write(path, offset)  # after the commit: a kill before it redoes them
    if gone:
        path.unlink()
        _offset_path(path).unlink(missing_ok=True)
        forget(path.name)
    return inserted


def _whole_lines_written(fd: int, offset: int) -> Iterator[bytes]:
    """What was written to the file from `offset` on, READ_BYTES or so at a time, cut after a
    newline: a last line without its newline is not complete (or never will be: its writer
    died mid-line) and is left out. Stops at the first NUL or the file's end."""
    tail = b""
    while True:
        chunk = os.pread(fd, READ_BYTES, offset)
        written = _written(chunk)
        offset += len(written)
        data = tail + written
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        tail = data[cut:]
        if len(written) < READ_BYTES:  # a NUL (the end of what was written) or the file's end
            return


def _batches(chunks: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    """The chunks' lines (each with its newline), `size` at a time."""
    lines: list[bytes] = []
    for chunk in chunks:
        lines.extend(chunk.splitlines(keepends=True))
        while len(lines) >= size:
            yield lines[:size]
            del lines[:size]
    if lines:
        yield lines


def inbox_backlog() -> tuple[int, bytes | None]:
    """Events waiting to be drained, and the oldest one's line (None: none waiting)."""
    folder = _folder()
    waiting, oldest = 0, None
    if not folder.is_dir():
        return 0, None
    for path in _files(folder):
        try:
            offset = _offset_read(path)
            with path.open("rb", buffering=0) as source:
                rest = b"".join(_whole_lines_written(source.fileno(), offset))
        except FileNotFoundError:  # drained and deleted meanwhile
            continue
        lines = rest.splitlines()
        waiting += len(lines)
        if oldest is None and lines:
            oldest = lines[0]
    return waiting, oldest
