import numpy as np
import onnxruntime as ort
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from inference import linear
from inference.linear import agrees_with, linear_export
from inference.runtime import _one_input
from training.data import build_preprocessor
from training.onnx_export import sklearn_to_onnx


def exported(load, estimator, classifier: bool, scale: bool = True):
    """(graph with one matrix input, its input's name, feature matrix, fitted pipeline), built
    as the trainers build and export a model."""
    data = load(as_frame=True)
    X = data.data.copy()
    X.columns = [f"f{i}" for i in range(X.shape[1])]
    inputs = [{"name": c, "onnx_input": c, "dtype": "number"} for c in X.columns]
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(inputs, scale=scale)), ("model", estimator)]
    ).fit(X, data.target)
    graph, matrix_input = _one_input(sklearn_to_onnx(pipeline, X, classifier=classifier), inputs)
    assert matrix_input is not None
    return graph, matrix_input, X.to_numpy(np.float32).copy(), pipeline


def session(graph):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


CASES = [
    pytest.param(load_breast_cancer, LogisticRegression(max_iter=5000), True, id="binary"),
    pytest.param(load_iris, LogisticRegression(max_iter=5000), True, id="multiclass"),
    pytest.param(load_diabetes, Ridge(), False, id="ridge"),
    pytest.param(load_diabetes, LinearRegression(), False, id="linear-regression"),
]


@pytest.mark.parametrize(("load", "estimator", "classifier"), CASES)
def test_a_linear_export_gives_onnx_runtimes_and_scikit_learns_answers(load, estimator, classifier):
    graph, matrix_input, X, pipeline = exported(load, estimator, classifier)
    model = linear_export(graph, matrix_input)
    assert model is not None and model.classifier is classifier
    X[::7, 3] = np.nan  # missing values take the training median, as in the export
    ours = model.outputs(X)
    onnx = session(graph).run(None, {matrix_input: X})[-1 if classifier else 0]
    np.testing.assert_allclose(ours, np.asarray(onnx).reshape(ours.shape), rtol=1e-4, atol=1e-5)
    frame = X.astype(np.float64)
    import pandas as pd

    frame = pd.DataFrame(frame, columns=[f"f{i}" for i in range(X.shape[1])])
    native = pipeline.predict_proba(frame) if classifier else pipeline.predict(frame)
    np.testing.assert_allclose(ours, native, rtol=1e-4, atol=1e-5)
    assert agrees_with(model, session(graph), matrix_input, classifier=classifier)


@pytest.mark.parametrize(("load", "estimator", "classifier"), CASES[:2])
def test_each_row_gets_the_same_bits_alone_or_in_any_batch(
    load, estimator, classifier, monkeypatch
):
    """Sync predictions (one row) and batch jobs (10,000 rows a chunk) must agree exactly."""
    graph, matrix_input, X, _ = exported(load, estimator, classifier)
    model = linear_export(graph, matrix_input)
    X[::5, 0] = np.nan
    whole = model.outputs(np.asfortranarray(X))  # the batch path's feed is column-major
    alone = np.vstack([model.outputs(X[i : i + 1]) for i in range(len(X))])
    assert np.array_equal(whole, alone)
    monkeypatch.setattr(linear, "_BLOCK_ELEMENTS", 100)  # many blocks of a few rows
    assert np.array_equal(model.outputs(X), whole)


def test_a_model_that_answers_otherwise_is_not_used():
    graph, matrix_input, _, _ = exported(
        load_breast_cancer, LogisticRegression(max_iter=5000), True
    )
    model = linear_export(graph, matrix_input)
    off = linear.LinearModel(**{**model.__dict__, "bias": model.bias + 0.01})
    assert not agrees_with(off, session(graph), matrix_input, classifier=True)


def test_graphs_of_any_other_shape_stay_on_onnx_runtime():
    forest, matrix_input, _, _ = exported(
        load_breast_cancer, RandomForestClassifier(5, random_state=0), True, scale=False
    )
    assert linear_export(forest, matrix_input) is None
    unscaled, matrix_input, _, _ = exported(
        load_breast_cancer, LogisticRegression(max_iter=5000), True, scale=False
    )
    assert linear_export(unscaled, matrix_input) is None  # no Scaler: not the one shape
