"""Fitting, evaluating and exporting one model. Runs in the training worker only.

Work is cut into stages (and, for ensembles, chunks of trees; for Keras, epochs) with a
cancellation check and a progress report between them, so a cancel stops the work, and the bill,
within one chunk.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from catalog.models import Dataset
from training.algorithms import Algorithm
from training.data import (
    TrainingDataError,
    build_preprocessor,
    load_table,
    validation_split_of,
)
from training.evaluation import all_classes, evaluation_of, validation_report
from training.fast_trees import forget_prepared, prepare_forest
from training.onnx_export import (
    check_parity,
    is_forest,
    onnx_predictor,
    preprocessor_to_onnx,
    sklearn_to_onnx,
)
from training.results import Reporter, TrainResult

TREE_CHUNK = 10  # trees (or boosting stages) fitted between two cancellation checks


def train(
    *,
    algorithm: Algorithm,
    params: dict[str, Any],
    dataset: "Dataset",
    features: list[str],
    target: str,
    validation_split: float,
    reporter: Reporter,
    cv_folds: int | None = None,
) -> TrainResult:
    if dataset.format == "images":
        from training.image_trainer import train_images

        return train_images(
            algorithm=algorithm,
            params=params,
            dataset=dataset,
            target=target,
            validation_split=validation_split,
            cv_folds=cv_folds,
            reporter=reporter,
        )
    reporter.progress(0.05, "loading the dataset", rows=dataset.n_rows)
    table = load_table(dataset, features=features, target=target, task=algorithm.task)
    reporter.check_cancel()
    classifier = algorithm.task == "classification"
    X_train, X_val, y_train, y_val = validation_split_of(table, validation_split, classifier)
    reporter.progress(0.15, "split", train_rows=len(X_train), validation_rows=len(X_val))
    signature = {"inputs": table.inputs, "target": target}
    if classifier:
        signature["classes"] = table.classes
    if algorithm.framework == "keras":
        from training.keras_trainer import train_keras

        return train_keras(
            algorithm, params, table, X_train, X_val, y_train, y_val, signature, cv_folds, reporter
        )
    try:
        return _train_sklearn(
            algorithm, params, table, X_train, X_val, y_train, y_val, signature, cv_folds, reporter
        )
    finally:
        forget_prepared()  # trees encoded ahead (fast_trees.prepare_forest), used or not


def _train_sklearn(
    algorithm, params, table, X_train, X_val, y_train, y_val, signature, cv_folds, reporter
):
    import skops.io as sio
    from sklearn.pipeline import Pipeline

    classifier = algorithm.task == "classification"
    preprocessor = build_preprocessor(table.inputs, scale=algorithm.scale_numeric)
    Z_train = preprocessor.fit_transform(X_train)
    reporter.check_cancel()
    estimator = algorithm.build_estimator(params)
    forest = is_forest(estimator)
    if forest:  # what each chunk's fit would otherwise copy X into, once
        Z_train = np.ascontiguousarray(Z_train, dtype=np.float32)
    total = params.get("n_estimators")
    if total and hasattr(estimator, "warm_start"):
        estimator.set_params(warm_start=True)
        # A forest's trees are encoded for its ONNX export on a second thread while the next
        # chunk fits (the fit releases the GIL): ~1 s of a 200-tree forest's job. Only a cache:
        # whatever it did not encode (or failed to), the export encodes itself.
        encoding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="maas-encode")
        try:
            fitted = 0
            for done in range(min(TREE_CHUNK, total), total + TREE_CHUNK, TREE_CHUNK):
                estimator.set_params(n_estimators=min(done, total))
                estimator.fit(Z_train, y_train)
                if forest:
                    trees = estimator.estimators_[fitted:]
                    encoding.submit(prepare_forest, trees, fitted, total, classifier)
                    fitted = len(estimator.estimators_)
                reporter.progress(
                    0.2 + 0.5 * min(done, total) / total, "fitting", estimators=min(done, total)
                )
                reporter.check_cancel()
                if done >= total:
                    break
        finally:
            encoding.shutdown(wait=True)
    else:
        reporter.progress(0.2, "fitting")
        estimator.fit(Z_train, y_train)
        reporter.check_cancel()
    pipeline = Pipeline([("preprocess", preprocessor), ("model", estimator)])
    reporter.progress(0.75, "evaluating on the validation rows")
    # Both cores work from here on: scikit-learn's predict and onnxruntime release the GIL, so
    # the evaluation runs beside the ONNX conversion and the parity check beside the skops dump
    # (~1 s of a 200-tree forest's job; docs/training.md).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="maas-train") as pool:
        evaluated = pool.submit(_evaluate, pipeline, X_val, classifier)
        candidate, export_error = _export(pipeline, X_train.head(1), classifier)
        pred, proba = evaluated.result()
        report = validation_report(algorithm.task, y_val, pred, proba, table.classes)
        metrics = report["metrics"]
        reporter.progress(0.85, "validation metrics", **metrics)
        reporter.check_cancel()
        checked = pool.submit(_checked, candidate, export_error, X_val, proba, pred)
        native = sio.dumps(pipeline)
        onnx, parity = checked.result()
    reporter.progress(0.88, "ONNX export checked", **parity)

    def fit_predict(X_fold, y_fold, X_test):
        fold = Pipeline(
            [
                ("preprocess", build_preprocessor(table.inputs, scale=algorithm.scale_numeric)),
                ("model", algorithm.build_estimator(params)),
            ]
        )
        fold.fit(X_fold, y_fold)
        pred, proba = _evaluate(fold, X_test, classifier)
        if proba is not None:
            proba = all_classes(proba, fold.classes_, len(table.classes))
        return pred, proba

    evaluation = evaluation_of(
        algorithm=algorithm,
        table=table,
        X_val=X_val,
        y_val=y_val,
        report=report,
        predict=onnx_predictor(onnx, classifier=classifier)
        if onnx
        else lambda X: _evaluate(pipeline, X, classifier),
        fit_predict=fit_predict,
        cv_folds=cv_folds,
        reporter=reporter,
        parallel=True,
    )
    return TrainResult(
        metrics=metrics,
        signature=signature,
        native=native,
        native_name="model.skops",
        onnx=onnx,
        parity=parity,
        rows=len(table.y),
        evaluation=evaluation,
        explainer=explainer_of(algorithm, Z_train),
    )


LINEAR = ("logistic_regression", "linear_regression", "ridge")


def explainer_of(algorithm: Algorithm, Z_train: np.ndarray) -> dict[str, Any]:
    """What inference.explain needs to explain this version: for a linear model the training
    mean of each encoded column (its contributions are measured from there); a tree ensemble's
    trees carry their own training weights."""
    if algorithm.name in LINEAR:
        return {"method": "linear", "means": np.asarray(Z_train, dtype=np.float64).mean(0).tolist()}
    if algorithm.name.startswith(("random_forest", "gradient_boosting")):
        return {"method": "tree"}
    return {}


def _evaluate(pipeline, X_val, classifier: bool) -> tuple[np.ndarray, np.ndarray | None]:
    if classifier:
        # What predict() computes for every classifier in the registry, without running the
        # model twice (a 200-tree forest's predict costs as much as its predict_proba).
        proba = pipeline.predict_proba(X_val)
        return pipeline.classes_[np.argmax(proba, axis=1)], proba
    return pipeline.predict(X_val), None


def _export(pipeline, X_head, classifier: bool) -> tuple[bytes | None, str | None]:
    try:
        return sklearn_to_onnx(pipeline, X_head, classifier=classifier), None
    except Exception as exc:  # a converter gap: serve natively, and say so
        return None, f"{type(exc).__name__}: {exc}"


def _checked(candidate, export_error, X_val, proba, pred) -> tuple[bytes | None, dict[str, Any]]:
    """The export if it passes the parity check, and the check's result."""
    if candidate is None:
        return None, {"passed": False, "error": export_error}
    try:
        parity = check_parity(candidate, X_val, native_proba=proba, native_pred=pred)
    except Exception as exc:
        return None, {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
    return (candidate if parity["passed"] else None), parity


__all__ = ["Reporter", "TrainResult", "TrainingDataError", "preprocessor_to_onnx", "train"]
