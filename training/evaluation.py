"""A trained version's evaluation: the validation split's full report, k-fold cross-validation
and permutation feature importance (API.md "Evaluation, explanations, aliases, exports").

Everything here works on callables (`fit_predict`, `predict`), so the scikit-learn and the Keras
trainers share it. Cross-validation folds run on threads, not processes: the job's compute is
its process's CPU time (maas.jobs), so work in threads is metered like the rest of the job,
and scikit-learn's tree fits release the GIL, so the folds of a forest use every core.
"""

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from training.results import Reporter

if TYPE_CHECKING:
    from training.algorithms import Algorithm
    from training.data import Table

# (rows) -> (predictions: class indexes or values, probabilities [n, n_classes] or None)
Predict = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray | None]]
# (train rows, train targets, test rows) -> what Predict answers for the test rows
FitPredict = Callable[
    [pd.DataFrame, np.ndarray, pd.DataFrame], tuple[np.ndarray, np.ndarray | None]
]

IMPORTANCE_REPEATS = 5


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def task_metrics(task: str, y_true, pred, proba, n_classes: int | None) -> dict[str, float | None]:
    """The metrics of one set of predictions (API.md "Training jobs" and the added ones)."""
    from sklearn import metrics

    if task == "classification":
        out = {
            "accuracy": metrics.accuracy_score(y_true, pred),
            "f1_macro": metrics.f1_score(y_true, pred, average="macro", zero_division=0),
            "f1_weighted": metrics.f1_score(y_true, pred, average="weighted", zero_division=0),
            "precision_macro": metrics.precision_score(
                y_true, pred, average="macro", zero_division=0
            ),
            "recall_macro": metrics.recall_score(y_true, pred, average="macro", zero_division=0),
            "balanced_accuracy": metrics.balanced_accuracy_score(y_true, pred),
        }
        if proba is not None:
            out["log_loss"] = metrics.log_loss(y_true, proba, labels=list(range(n_classes)))
        return {name: _finite(float(value)) for name, value in out.items()}
    mse = float(metrics.mean_squared_error(y_true, pred))
    return {
        name: _finite(value)
        for name, value in {
            "r2": float(metrics.r2_score(y_true, pred)),
            "rmse": math.sqrt(mse),
            "mae": float(metrics.mean_absolute_error(y_true, pred)),
            "mape": float(metrics.mean_absolute_percentage_error(y_true, pred)),
        }.items()
    }


def _roc_auc(y_true: np.ndarray, proba: np.ndarray | None, n_classes: int) -> float | None:
    """ROC AUC where it is defined: probabilities, and every class among the rows."""
    from sklearn.metrics import roc_auc_score

    if proba is None or len(np.unique(y_true)) != n_classes:
        return None
    if n_classes == 2:
        return _finite(float(roc_auc_score(y_true, proba[:, 1])))
    return _finite(
        float(roc_auc_score(y_true, proba, multi_class="ovr", labels=list(range(n_classes))))
    )


def validation_report(task: str, y_true, pred, proba, classes: list[Any] | None) -> dict[str, Any]:
    """`evaluation.validation`: the metrics, and for a classifier its per-class figures
    (scikit-learn's classification_report), confusion matrix and ROC AUC."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    n_classes = len(classes) if classes is not None else None
    report: dict[str, Any] = {
        "n_rows": len(y_true),
        "metrics": task_metrics(task, y_true, pred, proba, n_classes),
    }
    if task != "classification":
        return report
    labels = list(range(n_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, pred, labels=labels, zero_division=0
    )
    report["per_class"] = [
        {
            "label": classes[i],
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i in labels
    ]
    matrix = confusion_matrix(y_true, pred, labels=labels)
    report["confusion_matrix"] = {"labels": list(classes), "matrix": matrix.tolist()}
    report["roc_auc"] = _roc_auc(np.asarray(y_true), proba, n_classes)
    return report


def cross_validation(
    *,
    task: str,
    folds: int,
    X: pd.DataFrame,
    y: np.ndarray,
    n_classes: int | None,
    fit_predict: FitPredict,
    reporter: Reporter,
    parallel: bool,
    progress: tuple[float, float],
) -> dict[str, Any]:
    """Stratified k-fold for classifiers (k-fold for regression), shuffled with a fixed seed;
    each metric as mean, std and per fold. Cancellation is checked as each fold ends."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if task == "classification":
        smallest = int(np.bincount(y).min())
        if smallest < folds:
            from training.data import TrainingDataError

            raise TrainingDataError(
                f"cv_folds is {folds}, but the rarest class has {smallest} rows; each fold "
                f"needs one of every class. Choose cv_folds of at most {max(smallest, 2)}."
            )
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=0)
    splits = list(splitter.split(X, y))

    def one(split) -> dict[str, float | None]:
        train, test = split
        pred, proba = fit_predict(X.iloc[train], y[train], X.iloc[test])
        return task_metrics(task, y[test], pred, proba, n_classes)

    start, end = progress
    results: list[dict[str, float | None]] = []
    workers = min(folds, os.cpu_count() or 1) if parallel else 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="maas-cv") as pool:
        for result in pool.map(one, splits):
            results.append(result)
            done = len(results)
            reporter.progress(
                start + (end - start) * done / folds,
                f"cross-validation fold {done}/{folds}",
                **{k: v for k, v in result.items() if v is not None},
            )
            reporter.check_cancel()
    summary = {}
    for name in results[0]:
        values = [r[name] for r in results]
        known = [v for v in values if v is not None]
        summary[name] = {
            "mean": float(np.mean(known)) if known else None,
            "std": float(np.std(known)) if known else None,
            "folds": values,
        }
    return {"folds": folds, "metrics": summary}


class _Scored:
    """What scikit-learn's permutation_importance takes as the estimator: it only passes it to
    the scorer, which predicts through the trainer's callable."""

    def __init__(self, predict: Predict):
        self.predict = predict

    def fit(self, *args: Any) -> "_Scored":
        raise NotImplementedError("already fitted")


def feature_importance(
    *, task: str, predict: Predict, X_val: pd.DataFrame, y_val: np.ndarray, inputs: list[dict]
) -> list[dict[str, Any]]:
    """Permutation importance on the validation rows (scikit-learn's, 5 repeats): how much
    accuracy (classifiers) or R² (regressors) drops when one input feature's values are
    shuffled. Raw input columns are permuted, so a string feature's one-hot columns move
    together: the importance is the feature's, not an encoded column's. Largest first."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import accuracy_score, r2_score

    def score(estimator: _Scored, X: pd.DataFrame, y: np.ndarray) -> float:
        pred, _ = estimator.predict(X)
        return float(accuracy_score(y, pred) if task == "classification" else r2_score(y, pred))

    found = permutation_importance(
        _Scored(predict), X_val, y_val, scoring=score, n_repeats=IMPORTANCE_REPEATS, random_state=0
    )
    ranked = [
        {
            "feature": spec["name"],
            "importance": float(found.importances_mean[i]),
            "std": float(found.importances_std[i]),
        }
        for i, spec in enumerate(inputs)
    ]
    return sorted(ranked, key=lambda item: -item["importance"])


def evaluation_of(
    *,
    algorithm: "Algorithm",
    table: "Table",
    X_val,
    y_val: np.ndarray,
    report: dict,
    predict,
    fit_predict,
    cv_folds: int | None,
    reporter: Reporter,
    parallel: bool,
) -> dict:
    """The version's evaluation (training.evaluation), the same for every trainer: the
    validation `report` it was given, feature importance, and cross-validation if asked."""
    task = algorithm.task
    reporter.progress(0.9, "feature importance")
    importance = feature_importance(
        task=task, predict=predict, X_val=X_val, y_val=y_val, inputs=table.inputs
    )
    reporter.check_cancel()
    cv = None
    if cv_folds:
        cv = cross_validation(
            task=task,
            folds=cv_folds,
            X=table.X,
            y=table.y,
            n_classes=len(table.classes) if table.classes is not None else None,
            fit_predict=fit_predict,
            reporter=reporter,
            parallel=parallel,
            progress=(0.9, 0.99),
        )
    return {"validation": report, "cross_validation": cv, "feature_importance": importance}


def all_classes(proba: np.ndarray, fitted: np.ndarray, n_classes: int) -> np.ndarray:
    """Probabilities with a column per class of the table, for a model fitted on rows that
    lacked some (a cross-validation fold): the missing classes get 0."""
    if proba.shape[1] == n_classes:
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, fitted] = proba
    return out
