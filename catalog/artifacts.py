"""Model artifacts in the default storage.

Invariant: an artifact is loaded only from a path our worker wrote, and only after its sha256
matches the one recorded when it was written, so a file changed on disk is never deserialized.
"""

import hashlib
from collections.abc import Iterator

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


class ArtifactCorrupted(RuntimeError):
    pass


def artifact_write(path: str, data: bytes) -> tuple[str, str]:
    """Stores `data`; returns (the path it got, its sha256)."""
    saved = default_storage.save(path, ContentFile(data))
    return saved, hashlib.sha256(data).hexdigest()


def artifact_read(path: str, sha256: str) -> bytes:
    with default_storage.open(path, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArtifactCorrupted(f"artifact {path} does not match its recorded sha256")
    return data


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
