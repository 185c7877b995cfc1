"""Reading a dataset into a frame for training, and the preprocessing fitted with each model.

Features are renamed to `in_0`, `in_1`, ... (the ONNX input names); the signature keeps the
tenant's names and dtypes, so predictions take the raw columns. Numbers and booleans become
float32 (missing: the training median); strings stay strings (missing: "") and are one-hot
encoded, unseen values at prediction time encode as all zeros.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from catalog.models import Dataset
from catalog.selectors import dataset_open


class TrainingDataError(ValueError):
    """The tenant's data cannot train this model; the message says why and what to change."""


@dataclass
class Table:
    X: pd.DataFrame  # columns in_0..in_k
    y: np.ndarray
    inputs: list[dict[str, str]]  # [{"name", "dtype", "onnx_input"}]
    classes: list[Any] | None  # classification: the original labels, index = encoded class


def _coerce(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == "number":
        return pd.to_numeric(series, errors="coerce").astype("float32")
    if dtype == "boolean":
        text = series.map(lambda v: str(v).strip().lower() if v is not None else "")
        return text.map({"true": 1.0, "false": 0.0}).astype("float32")
    return series.map(
        lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    )


def _read_csv(f, dtypes: dict[str, str]) -> pd.DataFrame:
    """The CSV with the columns the upload found numeric parsed by pandas' C parser (correctly
    rounded in pandas 3: 400,000 random decimals matched Python's float() exactly; ~10x faster
    than parsing them as text and converting), the rest as text. A value that parser refuses but
    the upload's `float()` accepted ("1_000") reads the whole file as text instead, and `_coerce`
    converts it as it always did."""
    options = {"keep_default_na": False, "na_values": [""]}
    numbers = {name: "float64" for name, dtype in dtypes.items() if dtype == "number"}
    try:
        return pd.read_csv(f, dtype={name: str for name in dtypes} | numbers, **options)
    except (ValueError, OverflowError):
        f.seek(0)
        return pd.read_csv(f, dtype=str, **options)


def load_table(dataset: "Dataset", *, features: list[str], target: str, task: str) -> Table:
    dtypes = {c["name"]: c["dtype"] for c in dataset.columns}
    with dataset_open(dataset=dataset) as f:
        if dataset.format == "csv":
            frame = _read_csv(f, dtypes)
        else:
            frame = pd.read_json(f, lines=True, dtype=False)
    # Missing values as None, except in the columns _read_csv parsed as numbers (NaN there).
    parsed = set(frame.select_dtypes("number").columns) if dataset.format == "csv" else set()
    text = [c for c in frame.columns if c not in parsed]
    frame[text] = frame[text].astype(object).where(frame[text].notna(), None)
    missing = [c for c in [*features, target] if c not in frame.columns]
    if missing:
        raise TrainingDataError(f"The dataset has no column {missing[0]!r} any more.")
    y_raw = frame[target]
    keep = y_raw.notna() & (y_raw.astype(str) != "")
    frame = frame[keep]
    if len(frame) < 10:
        raise TrainingDataError(
            f"Only {len(frame)} rows have a value for {target!r}; at least 10 are needed."
        )
    X = pd.DataFrame(index=frame.index)
    inputs = []
    for i, name in enumerate(features):
        column = f"in_{i}"
        X[column] = _coerce(frame[name], dtypes[name])
        inputs.append({"name": name, "dtype": dtypes[name], "onnx_input": column})
    X = X.reset_index(drop=True)
    if task == "regression":
        y = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype="float64")
        if np.isnan(y).any():
            raise TrainingDataError(f"The target {target!r} has values that are not numbers.")
        return Table(X, y, inputs, None)
    labels = _coerce(frame[target], dtypes[target])
    classes = sorted(pd.unique(labels).tolist(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise TrainingDataError(
            f"The target {target!r} has one value only; a classifier needs two."
        )
    index = {c: i for i, c in enumerate(classes)}
    y = labels.map(index).to_numpy(dtype="int64")
    if dtypes[target] == "boolean":
        classes = [bool(c) for c in classes]
    elif dtypes[target] == "number":
        classes = [int(c) if float(c).is_integer() else float(c) for c in classes]
    return Table(X, y, inputs, classes)


def build_preprocessor(inputs: list[dict[str, str]], *, scale: bool):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [i["onnx_input"] for i in inputs if i["dtype"] != "string"]
    strings = [i["onnx_input"] for i in inputs if i["dtype"] == "string"]
    parts = []
    if numeric:
        steps = [("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
        if scale:
            steps.append(("scale", StandardScaler()))
        parts.append(("numeric", Pipeline(steps), numeric))
    if strings:
        parts.append(
            ("strings", OneHotEncoder(handle_unknown="ignore", sparse_output=False), strings)
        )
    return ColumnTransformer(parts, sparse_threshold=0.0)


def validation_split_of(table: Table, validation_split: float, classifier: bool):
    """(X_train, X_val, y_train, y_val): the split every trainer fits and evaluates on;
    stratified for a classifier whose classes all fit in both parts. Seeded, so the same
    table always splits the same way."""
    from sklearn.model_selection import train_test_split

    stratify = None
    if classifier:
        counts = np.bincount(table.y)
        if counts.min() >= 2 and len(counts) * 2 <= len(table.y) * validation_split:
            stratify = table.y
    return train_test_split(
        table.X, table.y, test_size=validation_split, random_state=0, stratify=stratify
    )
