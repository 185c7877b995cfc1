"""Checking prediction inputs against a version's signature and turning them into tensors.

Rows are objects keyed by feature name, or lists in the signature's order. Every problem names
the row and the feature: missing, unknown, wrong type, not finite. `null` is a missing value,
which the model's fitted preprocessing fills in (the training median; "" for strings).
"""

import math
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from catalog.selectors import ALIAS_NAME, ImageError, decode_base64_image, image_array
from maas.errors import InvalidRequest

# Versions are numbered from 1; the catalog stores them as 32-bit integers.
VERSION_MAX = 2_147_483_647


def version_checked(version: Any) -> int | str | None:
    """The `version` a body asks for: a number, an alias name, or None for the latest (absent,
    null or "latest"); anything else is 400."""
    if version is None or version == "latest":
        return None
    if isinstance(version, str) and ALIAS_NAME.match(version):
        return version
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= VERSION_MAX:
        raise InvalidRequest(
            "version must be a version number (1, 2, ...) or an alias name ('production').",
            param="version",
        )
    return version


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
            elif dtype == "image":
                if not isinstance(value, str):
                    raise _bad(r, name, "must be a base64 PNG or JPEG image (a string).")
            elif not isinstance(value, str):
                raise _bad(r, name, f"must be a string, got {type(value).__name__}.")
        out.append(values)
    return out


def build_inputs(inputs: list[dict[str, str]], rows: list[list[Any]], *, as_frame: bool = False):
    """(ONNX feed: one [n, 1] tensor per feature, and the same as a DataFrame when asked)."""
    feed = {}
    for j, spec in enumerate(inputs):
        column = [row[j] for row in rows]
        if spec["dtype"] == "image":
            feed[spec["onnx_input"]] = _images(spec, column)
            continue
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


def _images(spec: dict[str, Any], column: list[Any]) -> np.ndarray:
    """[n, size, size, channels] float32: each row's image decoded and resized as in training
    (catalog.images.image_array). A missing image is all black; a bad one is 400 naming it."""
    size, channels = spec["size"], spec["channels"]
    out = np.zeros((len(column), size, size, channels), dtype=np.float32)
    for r, value in enumerate(column):
        if value is None:
            continue
        where = f"inputs[{r}].{spec['name']}"
        try:
            out[r] = image_array(decode_base64_image(value, where), size, channels)
        except ImageError as exc:
            raise InvalidRequest(str(exc), param=where, code="invalid_input") from None
    return out


_NUMBERS = frozenset({int, float})


def prepare_inputs(
    inputs: list[dict[str, str]],
    rows: Any,
    max_rows: int,
    *,
    as_frame: bool = False,
    matrix_input: str | None = None,
) -> tuple[dict[str, np.ndarray], Any, int]:
    """(ONNX feed, DataFrame when asked, row count) for a request's `inputs`.

    The common case, an all-numeric signature with every value a number, is checked and
    converted with C-level operations (one array for all rows, a view per feature): per value
    Python checks cost ~10 µs per 30-feature row, more than the model. Anything else, and any
    problem, goes through rows_as_lists, whose errors name the row and feature. With
    `matrix_input` (a session that takes one [n, k] input), the fast path feeds that."""
    fast = _all_numbers(inputs, rows, max_rows) if not as_frame else None
    if fast is None:
        checked = rows_as_lists(inputs, rows, max_rows)
        feed, frame = build_inputs(inputs, checked, as_frame=as_frame)
        return feed, frame, len(checked)
    if matrix_input is not None:
        return {matrix_input: fast.astype(np.float32)}, None, len(fast)
    # Column-major, so that each feature's [n, 1] slice is contiguous: ONNX Runtime reads it
    # in place.
    matrix = np.asfortranarray(fast, dtype=np.float32)
    feed = {spec["onnx_input"]: matrix[:, j : j + 1] for j, spec in enumerate(inputs)}
    return feed, None, len(fast)


def _all_numbers(inputs, rows, max_rows) -> np.ndarray | None:
    if not isinstance(rows, list) or not 0 < len(rows) <= max_rows:
        return None
    if any(spec["dtype"] != "number" for spec in inputs):
        return None
    width = len(inputs)
    first = rows[0]
    if type(first) is dict:
        # Rows of exactly `width` keys in which every feature is found have exactly the
        # signature's keys: two cheap checks instead of comparing key sets row by row.
        if not all(type(row) is dict and len(row) == width for row in rows):
            return None
        names = [spec["name"] for spec in inputs]
        pick = itemgetter(*names) if width > 1 else (lambda row: (row[names[0]],))
        try:
            values = [pick(row) for row in rows]
        except KeyError:
            return None
    elif type(first) is list:
        if not all(type(row) is list and len(row) == width for row in rows):
            return None
        values = rows
    else:
        return None
    if not set(map(type, chain.from_iterable(values))) <= _NUMBERS:
        return None  # null, a bool, a string...: the careful path says which
    matrix = np.array(values, dtype=np.float64)
    if not np.isfinite(matrix).all():
        return None
    return matrix
