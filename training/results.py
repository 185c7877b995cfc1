"""What a trainer reports and returns; shared by the scikit-learn and Keras trainers."""

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reporter:
    """What a trainer calls back: progress(fraction, message, **data) and check_cancel()."""

    progress: Callable[..., None]
    check_cancel: Callable[[], None]


@dataclass
class TrainResult:
    metrics: dict[str, Any]
    signature: dict[str, Any]
    native: bytes
    native_name: str
    onnx: bytes | None
    parity: dict[str, Any]
    rows: int
    evaluation: dict[str, Any] = field(default_factory=dict)
    # What explaining the version needs besides its artifact (inference.explain); empty: the
    # version cannot be explained.
    explainer: dict[str, Any] = field(default_factory=dict)


def native_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
