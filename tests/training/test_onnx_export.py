import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from training.data import build_preprocessor
from training.onnx_export import check_parity, run_onnx, sklearn_to_onnx


@pytest.fixture(scope="module")
def noisy_forest():
    """A 40-tree forest on noisy labels: many validation rows get 20 votes against 20."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(4000, 8)), columns=[f"f{i}" for i in range(8)])
    y = (X.sum(axis=1) + rng.normal(scale=2.0, size=len(X)) > 0).astype(int).to_numpy()
    inputs = [{"onnx_input": c, "dtype": "float"} for c in X.columns]
    pipeline = Pipeline(
        [
            ("preprocess", build_preprocessor(inputs, scale=False)),
            ("model", RandomForestClassifier(40, random_state=0, n_jobs=1)),
        ]
    ).fit(X[:3000], y[:3000])
    X_val = X[3000:]
    proba = pipeline.predict_proba(X_val)
    return pipeline, X_val, proba, pipeline.predict(X_val)


def test_parity_accepts_an_export_that_breaks_ties_the_other_way(noisy_forest):
    pipeline, X_val, proba, pred = noisy_forest
    export = sklearn_to_onnx(pipeline, X_val.head(1), classifier=True)
    onnx_labels = np.argmax(run_onnx(export, X_val)[-1], axis=1)
    differ = onnx_labels != pred
    # The case this guards: float32 sums in the export pick the other class of a tie.
    assert differ.any()
    assert np.all(np.abs(proba[differ, 0] - proba[differ, 1]) < 1e-6)

    parity = check_parity(export, X_val, native_proba=proba, native_pred=pred)

    assert parity["passed"] is True and parity["label_agreement"] == 1.0
    # An export that picks other classes where there is no tie is still rejected:
    # tests/training/test_training.py::test_parity_check_rejects_an_export_that_disagrees
