"""What a trainer reports and returns; shared by the scikit-learn and Keras trainers."""

import io
import math
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
    extra: dict[str, Any] = field(default_factory=dict)


def validation_metrics(task: str, y_true, pred, proba, n_classes: int | None) -> dict[str, float]:
    from sklearn import metrics

    if task == "classification":
        out = {
            "accuracy": float(metrics.accuracy_score(y_true, pred)),
            "f1_macro": float(metrics.f1_score(y_true, pred, average="macro")),
        }
        if proba is not None:
            out["log_loss"] = float(metrics.log_loss(y_true, proba, labels=list(range(n_classes))))
        return out
    mse = float(metrics.mean_squared_error(y_true, pred))
    return {
        "r2": float(metrics.r2_score(y_true, pred)),
        "rmse": math.sqrt(mse),
        "mae": float(metrics.mean_absolute_error(y_true, pred)),
    }


def native_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
