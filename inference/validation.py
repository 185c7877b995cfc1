"""Checking prediction inputs against a version's signature and turning them into tensors.

Rows are objects keyed by feature name, or lists in the signature's order. Every problem names
the row and the feature: missing, unknown, wrong type, not finite. `null` is a missing value,
which the model's fitted preprocessing fills in (the training median; "" for strings).
"""

import math
from typing import Any

import numpy as np

from maas.errors import InvalidRequest


def _bad(row: int, feature: str | None, message: str) -> InvalidRequest:
    param = f"inputs[{row}]" + (f".{feature}" if feature else "")
    return InvalidRequest(f"{param}: {message}", param=param, code="invalid_input")


def rows_as_lists(inputs: list[dict[str, str]], rows: Any, max_rows: int) -> list[list[Any]]:
    """Rows in signature order, each value checked for its feature's dtype."""
    if not isinstance(rows, list) or not rows:
        raise InvalidRequest(
            "inputs must be a non-empty list of rows (objects keyed by feature name, or lists "
            "in the signature's order).",
            param="inputs",
        )
    if len(rows) > max_rows:
        raise InvalidRequest(
            f"inputs has {len(rows)} rows; at most {max_rows} per request. Send a batch "
            "inference job (POST /v1/inference-jobs) for more.",
            param="inputs",
            code="too_many_rows",
        )
    names = [i["name"] for i in inputs]
    dtypes = [i["dtype"] for i in inputs]
    known = set(names)
    out = []
    for r, row in enumerate(rows):
        if isinstance(row, dict):
            extra = [k for k in row if k not in known]
            if extra:
                raise _bad(
                    r, str(extra[0]), f"unknown feature; the model takes {', '.join(names)}."
                )
            missing = [n for n in names if n not in row]
            if missing:
                raise _bad(r, missing[0], "missing; send null for an unknown value.")
            values = [row[n] for n in names]
        elif isinstance(row, list):
            if len(row) != len(names):
                raise _bad(
                    r,
                    None,
                    f"has {len(row)} values; the model takes {len(names)}: {', '.join(names)}.",
                )
            values = row
        else:
            raise _bad(r, None, "must be an object keyed by feature name, or a list.")
        for name, dtype, value in zip(names, dtypes, values, strict=True):
            if value is None:
                continue
            if dtype == "number":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise _bad(r, name, f"must be a number, got {type(value).__name__}.")
                if not math.isfinite(value):
                    raise _bad(r, name, "must be a finite number.")
            elif dtype == "boolean":
                if not isinstance(value, bool):
                    raise _bad(r, name, f"must be true or false, got {type(value).__name__}.")
            elif not isinstance(value, str):
                raise _bad(r, name, f"must be a string, got {type(value).__name__}.")
        out.append(values)
    return out


def build_inputs(inputs: list[dict[str, str]], rows: list[list[Any]], *, as_frame: bool = False):
    """(ONNX feed: one [n, 1] tensor per feature, and the same as a DataFrame when asked)."""
    feed = {}
    for j, spec in enumerate(inputs):
        column = [row[j] for row in rows]
        if spec["dtype"] == "string":
            feed[spec["onnx_input"]] = np.array(
                ["" if v is None else v for v in column], dtype=object
            ).reshape(-1, 1)
        else:
            feed[spec["onnx_input"]] = np.array(
                [np.nan if v is None else float(v) for v in column], dtype=np.float32
            ).reshape(-1, 1)
    frame = None
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame({name: values.reshape(-1) for name, values in feed.items()})
    return feed, frame
