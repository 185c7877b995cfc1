"""Progress bars (rich, on stderr so stdout stays the answer), and a file reader that reports the
bytes an upload has sent."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

STDERR = Console(stderr=True)


class ProgressReader:
    """A binary file that calls `advance(n)` for every n bytes read from it. httpx reads a
    multipart file in chunks (and seeks it to 0 before each try), so an upload streams from disk
    and a retried upload starts its bar over."""

    def __init__(self, file: IO[bytes], advance: Callable[[int], None], reset: Callable[[], None]):
        self._file = file
        self._advance = advance
        self._reset = reset
        self.name = getattr(file, "name", "upload")

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._advance(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if offset == 0 and whence == os.SEEK_SET:
            self._reset()
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()


class Bytes:
    """What a byte bar is told: bytes moved, and a restart for a retried transfer."""

    def __init__(self, progress: Progress | None, task: Any) -> None:
        self._progress = progress
        self._task = task

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def reset(self) -> None:
        if self._progress is not None:
            self._progress.reset(self._task)

    def total(self, total: int | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)


@contextlib.contextmanager
def byte_bar(description: str, total: int | None, enabled: bool) -> Iterator[Bytes]:
    if not enabled:
        yield Bytes(None, None)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=STDERR, transient=False) as progress:
        yield Bytes(progress, progress.add_task(description, total=total))


class JobBar:
    """A job's bar: status, percentage and its latest event (epoch and loss for Keras)."""

    def __init__(self, job_id: str, enabled: bool) -> None:
        self._progress: Progress | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"),
                TextColumn("[dim]{task.fields[event]}"),
                console=STDERR,
            )
            self._task = self._progress.add_task(job_id, total=1.0, status="", event="")

    def __enter__(self) -> JobBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    @property
    def enabled(self) -> bool:
        return self._progress is not None

    def show(self, progress: float, status: str, event: str = "") -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=progress, status=status, event=event)
