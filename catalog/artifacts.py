"""Model artifacts in the default storage.

Invariant: an artifact is loaded only from a path our worker wrote, and only after its sha256
matches the one recorded when it was written, so a file changed on disk (or in the bucket, or
in the local cache) is never deserialized.

A remote store's artifacts are cached on this host's disk (MAAS_ARTIFACT_CACHE_DIR, named by
sha256, written whole then renamed, so processes share it safely), the least recently used
dropped past MAAS_ARTIFACT_CACHE_BYTES. A cache that vanishes (deleted mid-run) is a miss.
"""

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage


class ArtifactCorrupted(RuntimeError):
    pass


def artifact_write(path: str, data: bytes) -> tuple[str, str]:
    """Stores `data`; returns (the path it got, its sha256)."""
    saved = default_storage.save(path, ContentFile(data))
    return saved, hashlib.sha256(data).hexdigest()


def artifact_read(path: str, sha256: str) -> bytes:
    remote = not isinstance(default_storage, FileSystemStorage)
    if remote and (cached := _cache_get(sha256)) is not None:
        return cached
    with default_storage.open(path, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArtifactCorrupted(f"artifact {path} does not match its recorded sha256")
    if remote:
        _cache_put(sha256, data)
    return data


def _cache_get(sha256: str) -> bytes | None:
    path = Path(settings.MAAS_ARTIFACT_CACHE_DIR) / sha256
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != sha256:  # changed on disk: never loaded
        path.unlink(missing_ok=True)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used
    return data


def _cache_put(sha256: str, data: bytes) -> None:
    folder = Path(settings.MAAS_ARTIFACT_CACHE_DIR)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, folder / sha256)
        _cache_trim(folder, int(settings.MAAS_ARTIFACT_CACHE_BYTES))
    except OSError:
        pass  # a cache that cannot be written costs a download next time, nothing else


def _cache_trim(folder: Path, limit: int) -> None:
    entries = []
    for entry in os.scandir(folder):
        if entry.name.startswith(".part-"):
            continue  # another process's download, not yet whole
        with contextlib.suppress(OSError):
            stat = entry.stat()
            entries.append((stat.st_mtime, stat.st_size, entry.path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):  # oldest first
        if total <= limit:
            break
        with contextlib.suppress(OSError):
            os.unlink(path)
            total -= size


def artifacts_delete(paths: list[str]) -> None:
    for path in paths:
        if path:
            default_storage.delete(path)


STREAM_CHUNK_BYTES = 256 * 1024


def artifact_stream(path: str, sha256: str) -> tuple[int, Iterator[bytes]]:
    """(size, chunks) of an artifact for download, its sha256 checked first (one pass over the
    file, in chunks), so that what is sent is what the worker wrote."""
    digest, size = hashlib.sha256(), 0
    with default_storage.open(path, "rb") as f:
        while chunk := f.read(STREAM_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    if digest.hexdigest() != sha256:
        raise ArtifactCorrupted(f"artifact {path} does not match its recorded sha256")

    def chunks() -> Iterator[bytes]:
        with default_storage.open(path, "rb") as f:
            while chunk := f.read(STREAM_CHUNK_BYTES):
                yield chunk

    return size, chunks()
