"""Model artifacts in the default storage.

Invariant: an artifact is loaded only from a path our worker wrote, and only after its sha256
matches the one recorded when it was written, so a file changed on disk is never deserialized.
"""

import hashlib

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
