"""ONNX exports of trained models, and the parity check that decides whether one may serve.

A version is served from its ONNX export only if, on the validation rows, the export's
predictions match the native model's: classes agree on at least 99.9 % of rows and
probabilities within 1e-3; regression outputs within 1e-3 x max(1, |y|). A row whose native
probabilities tie (the export's class is within 1e-3 of the native class: a forest of 40 trees
voting 20 to 20) agrees whichever of the tied classes the export picks, since float32 sums break
such ties either way; counting them as disagreements rejected ~2.5 % of such a forest's rows.
An export that fails is kept out of the catalog, and the parity result says why.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

PROBABILITY_TOLERANCE = 1e-3
REGRESSION_TOLERANCE = 1e-3
LABEL_AGREEMENT = 0.999


def onnx_feed(X: pd.DataFrame) -> dict[str, np.ndarray]:
    """The input dict an ONNX session takes for rows of X (one [n, 1] tensor per column)."""
    feed = {}
    for column in X.columns:
        if pd.api.types.is_numeric_dtype(X[column]):
            feed[column] = X[column].to_numpy(dtype=np.float32).reshape(-1, 1)
        else:
            feed[column] = X[column].astype(str).to_numpy(dtype=object).reshape(-1, 1)
    return feed


def _initial_types(X: pd.DataFrame):
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    return [
        (
            c,
            FloatTensorType([None, 1])
            if pd.api.types.is_numeric_dtype(X[c])
            else StringTensorType([None, 1]),
        )
        for c in X.columns
    ]


def sklearn_to_onnx(pipeline, X: pd.DataFrame, *, classifier: bool) -> bytes:
    from skl2onnx import convert_sklearn

    from training import fast_trees

    fast_trees.install()

    options = {id(pipeline): {"zipmap": False}} if classifier else None
    final = pipeline.steps[-1][1]
    if is_forest(final):
        if options is not None:  # what skl2onnx derives from the line above, written out
            options[id(final)] = {"zipmap": False}
        with fast_trees.captured_trees() as payloads, _options_as_given():
            model = convert_sklearn(pipeline, initial_types=_initial_types(X), options=options)
        spliced = fast_trees.forest_model_bytes(model, payloads)
        if spliced is not None:
            return spliced
    model = convert_sklearn(pipeline, initial_types=_initial_types(X), options=options)
    return model.SerializeToString()


@contextmanager
def _options_as_given() -> Iterator[None]:
    """skl2onnx finds which step options keyed by id() belong to by walking every attribute of
    the pipeline that ends in "_", and a forest's `estimators_samples_` redraws every tree's
    bootstrap sample (~0.8 s for 200 trees here, twice per conversion). Options that already name
    the pipeline and its final step come out of that walk unchanged, so it is skipped."""
    import skl2onnx._parse
    import skl2onnx.convert

    modules = (skl2onnx.convert, skl2onnx._parse)
    saved = [m._process_options for m in modules]
    for module in modules:
        module._process_options = lambda model, options: options
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module._process_options = original


def is_forest(estimator) -> bool:
    """Forests grow the exports whose size the byte-level splice is for (full-depth trees)."""
    from sklearn.ensemble._forest import BaseForest

    return isinstance(estimator, BaseForest)


def preprocessor_to_onnx(preprocessor, X: pd.DataFrame, opset: int):
    from skl2onnx import convert_sklearn

    return convert_sklearn(preprocessor, initial_types=_initial_types(X), target_opset=opset)


def run_onnx(onnx_bytes: bytes, X: "pd.DataFrame | dict[str, np.ndarray]") -> list[np.ndarray]:
    """The export's outputs for rows of X (raw columns), or for a ready feed (a dict)."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    given = X if isinstance(X, dict) else onnx_feed(X)
    return session.run(None, {k: v for k, v in given.items() if k in names})


def onnx_predictor(onnx_bytes: bytes, *, classifier: bool):
    """predict(rows) -> (class indexes or values, probabilities or None) through the export:
    what permutation importance calls ~150 times, where a forest's native predict_proba costs
    ~17 ms a call here and the export ~0.5 ms. Use it only for an export that passed its
    parity check (it then answers as the native model does, and it is what serves)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}

    def predict(X: pd.DataFrame):
        if all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes):
            matrix = X.to_numpy(dtype=np.float32)
            feed = {c: matrix[:, j : j + 1] for j, c in enumerate(X.columns) if c in names}
        else:
            feed = {k: v for k, v in onnx_feed(X).items() if k in names}
        outputs = session.run(None, feed)
        if classifier:
            proba = np.asarray(outputs[-1], dtype=np.float64).reshape(len(X), -1)
            return np.argmax(proba, axis=1), proba
        return np.asarray(outputs[0], dtype=np.float64).reshape(-1), None

    return predict


def check_parity(
    onnx_bytes: bytes,
    X_val: "pd.DataFrame | dict[str, np.ndarray]",
    *,
    native_proba: np.ndarray | None,
    native_pred: np.ndarray,
) -> dict[str, Any]:
    """Compares the export with the native predictions on the validation rows (raw columns,
    or the feed an image model takes)."""
    rows = len(native_pred)
    try:
        outputs = run_onnx(onnx_bytes, X_val)
    except Exception as exc:  # an export that does not even run is a failed check
        return {"passed": False, "rows": rows, "error": f"{type(exc).__name__}: {exc}"}
    if native_proba is not None:
        proba = outputs[-1] if outputs[-1].ndim == 2 else outputs[0]
        proba = np.asarray(proba, dtype=np.float64).reshape(rows, -1)
        diff = float(np.max(np.abs(proba - native_proba))) if rows else 0.0
        agreement = _label_agreement(np.argmax(proba, axis=1), native_proba, native_pred)
        passed = diff <= PROBABILITY_TOLERANCE and agreement >= LABEL_AGREEMENT
        return {"passed": passed, "rows": rows, "max_abs_diff": diff, "label_agreement": agreement}
    pred = np.asarray(outputs[0], dtype=np.float64).reshape(-1)
    scale = np.maximum(1.0, np.abs(native_pred))
    diff = float(np.max(np.abs(pred - native_pred) / scale)) if rows else 0.0
    return {"passed": diff <= REGRESSION_TOLERANCE, "rows": rows, "max_rel_diff": diff}


def _label_agreement(
    chosen: np.ndarray, native_proba: np.ndarray, native_pred: np.ndarray
) -> float:
    """The share of rows where the export picks the native class, or one tied with it."""
    if not len(chosen):
        return 1.0
    rows = np.arange(len(chosen))
    native_best = native_proba[rows, native_pred]
    tied = native_proba[rows, chosen] >= native_best - PROBABILITY_TOLERANCE
    return float(np.mean((chosen == native_pred) | tied))
