"""A version's evaluation: the validation report, cross-validation and feature importance
(training.evaluation), through the API."""

import io

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import classification_report

from catalog.models import ModelVersion
from tests.helpers import assert_error
from tests.training.conftest import make_dataset
from training import services
from training.data import load_table, validation_split_of
from training.evaluation import cross_validation, validation_report
from training.models import TrainingJob
from training.results import Reporter

pytestmark = pytest.mark.django_db


def planted_csv(n: int = 600, classes: int = 3, seed: int = 0) -> bytes:
    """`signal` decides the class (with some overlap), `weak` helps a little, `noise` not at
    all; `color` is a string feature that carries a little of the class too."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, classes, n)
    frame = pd.DataFrame(
        {
            "signal": label * 2.0 + rng.normal(0, 0.7, n),
            "weak": label * 0.5 + rng.normal(0, 1.5, n),
            "noise": rng.normal(0, 1, n),
            "color": np.where(
                rng.random(n) < 0.8,
                rng.choice(["a", "b", "c"], n),
                np.array(["a", "b", "c"])[label],
            ),
            "kind": np.array(["low", "mid", "high"])[label],
        }
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def run(job_id: str) -> TrainingJob:
    services.training_job_run(job_id=job_id)
    return TrainingJob.objects.get(pk=job_id)


def train(api, dataset, **body) -> TrainingJob:
    created = api.post(
        "/v1/training-jobs", {"dataset": dataset.pk, "target": "kind", **body}, format="json"
    )
    assert created.status_code == 202, created.json()
    job = run(created.json()["id"])
    assert job.status == "succeeded", (job.error_code, job.error_message)
    return job


def test_forest_with_cross_validation_reports_what_scikit_learn_does(api, tenant, settings):
    settings.MAAS_USAGE_SINK = "database"
    dataset = make_dataset(tenant, planted_csv())
    job = train(
        api,
        dataset,
        algorithm="random_forest_classifier",
        params={"n_estimators": 30},
        cv_folds=5,
    )
    assert api.get(f"/v1/training-jobs/{job.pk}").json()["cv_folds"] == 5
    answer = api.get(f"/v1/models/{job.model_id}/versions/1/evaluation")
    assert answer.status_code == 200, answer.json()
    evaluation = answer.json()
    validation = evaluation["validation"]

    # The same split, predicted through the API, scored by scikit-learn.
    table = load_table(dataset, features=job.features, target="kind", task="classification")
    _, X_val, _, y_val = validation_split_of(table, job.validation_split, True)
    names = {spec["onnx_input"]: spec["name"] for spec in table.inputs}
    rows = X_val.rename(columns=names).to_dict(orient="records")
    predicted = api.post(
        f"/v1/models/{job.model_id}/predict", {"inputs": rows}, format="json"
    ).json()["predictions"]
    truth = [table.classes[i] for i in y_val]
    expected = classification_report(truth, predicted, output_dict=True, zero_division=0)

    matrix = validation["confusion_matrix"]
    assert matrix["labels"] == ["high", "low", "mid"]
    assert sum(map(sum, matrix["matrix"])) == validation["n_rows"] == len(y_val)
    for cls in validation["per_class"]:
        assert cls["precision"] == pytest.approx(expected[cls["label"]]["precision"])
        assert cls["recall"] == pytest.approx(expected[cls["label"]]["recall"])
        assert cls["f1"] == pytest.approx(expected[cls["label"]]["f1-score"])
        assert cls["support"] == expected[cls["label"]]["support"]
    metrics = validation["metrics"]
    assert metrics["accuracy"] == pytest.approx(expected["accuracy"])
    assert metrics["f1_weighted"] == pytest.approx(expected["weighted avg"]["f1-score"])
    assert metrics["precision_macro"] == pytest.approx(expected["macro avg"]["precision"])
    assert set(metrics) >= {"recall_macro", "balanced_accuracy", "log_loss", "f1_macro"}
    assert 0.5 < validation["roc_auc"] <= 1

    cv = evaluation["cross_validation"]
    assert cv["folds"] == 5
    accuracy = cv["metrics"]["accuracy"]
    assert len(accuracy["folds"]) == 5
    assert accuracy["mean"] == pytest.approx(np.mean(accuracy["folds"]))
    assert accuracy["std"] == pytest.approx(np.std(accuracy["folds"]))
    assert 0.6 < accuracy["mean"] <= 1

    ranked = [item["feature"] for item in evaluation["feature_importance"]]
    assert sorted(ranked) == ["color", "noise", "signal", "weak"]  # by input feature
    assert ranked[0] == "signal" and ranked[-1] == "noise"
    events = [e.message for e in job.events.all()]
    assert "cross-validation fold 5/5" in events


def test_regression_reports_metrics_and_no_class_figures(api, tenant):
    dataset = make_dataset(tenant, planted_csv())
    job = train(api, dataset, algorithm="ridge", target="signal", features=["weak", "kind"])
    evaluation = api.get(f"/v1/models/{job.model_id}/versions/1/evaluation").json()
    assert set(evaluation["validation"]["metrics"]) == {"r2", "rmse", "mae", "mape"}
    assert "per_class" not in evaluation["validation"]
    assert evaluation["cross_validation"] is None
    assert [i["feature"] for i in evaluation["feature_importance"]] == ["kind", "weak"]


@pytest.mark.parametrize(
    ("cv_folds", "message"),
    [(1, "greater than or equal to 2"), (11, "less than or equal to 10"), ("5", "whole number")],
)
def test_cv_folds_out_of_range_is_400(api, tenant, cv_folds, message):
    dataset = make_dataset(tenant, planted_csv(40))
    answer = api.post(
        "/v1/training-jobs",
        {"dataset": dataset.pk, "target": "kind", "algorithm": "ridge", "cv_folds": cv_folds},
        format="json",
    )
    error = assert_error(answer, 400, "invalid_request_error")
    assert error["param"] == "cv_folds" and message in error["message"]


def test_more_folds_than_rows_allow_is_400_and_a_rare_class_fails_the_job(api, tenant):
    small = make_dataset(tenant, planted_csv(12))
    answer = api.post(
        "/v1/training-jobs",
        {"dataset": small.pk, "target": "kind", "algorithm": "logistic_regression", "cv_folds": 7},
        format="json",
    )
    error = assert_error(answer, 400, "invalid_request_error")
    assert error["param"] == "cv_folds" and "at least 14" in error["message"]
    answer = api.post(
        "/v1/training-jobs",
        {"dataset": small.pk, "target": "kind", "algorithm": "logistic_regression", "cv_folds": 6},
        format="json",
    )
    job = run(answer.json()["id"])
    assert job.status == "failed" and job.error_code == "invalid_training_data"
    assert "rarest class" in job.error_message


def test_a_version_trained_before_evaluations_is_409(api, tenant):
    dataset = make_dataset(tenant, planted_csv(60))
    job = train(api, dataset, algorithm="logistic_regression")
    ModelVersion.objects.filter(model_id=job.model_id).update(evaluation={})
    answer = api.get(f"/v1/models/{job.model_id}/versions/1/evaluation")
    assert_error(answer, 409, "conflict_error", "evaluation_unavailable")


def test_roc_auc_is_null_when_a_class_is_missing_from_the_rows():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1, 0], [0.8, 0.2, 0], [0.3, 0.7, 0], [0.4, 0.6, 0]])
    report = validation_report("classification", y, proba.argmax(1), proba, ["a", "b", "c"])
    assert report["roc_auc"] is None
    assert report["per_class"][2] == {
        "label": "c",
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
    }


def test_folds_run_in_parallel_and_each_is_reported():
    X = pd.DataFrame({"in_0": np.arange(40.0)})
    y = np.arange(40.0) * 2
    seen = []

    def fit_predict(X_fold, y_fold, X_test):
        seen.append(len(X_test))
        return X_test["in_0"].to_numpy() * 2, None

    messages = []
    cv = cross_validation(
        task="regression",
        folds=4,
        X=X,
        y=y,
        n_classes=None,
        fit_predict=fit_predict,
        reporter=Reporter(progress=lambda f, m, **d: messages.append(m), check_cancel=lambda: None),
        parallel=True,
        progress=(0.5, 0.9),
    )
    assert sorted(seen) == [10, 10, 10, 10]
    assert cv["metrics"]["r2"] == {"mean": 1.0, "std": 0.0, "folds": [1.0] * 4}
    assert messages == [f"cross-validation fold {i}/4" for i in range(1, 5)]
