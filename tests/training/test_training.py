"""Training jobs in process: the API's checks, and the worker's service run directly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import UsageEvent
from catalog.models import Model, ModelVersion
from maas.jobs import job_reap_all
from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import assert_error, dead_worker, live_worker
from tests.training.conftest import make_dataset
from training import services
from training.models import TrainingJob

pytestmark = pytest.mark.django_db


def create(api, **body):
    return api.post("/v1/training-jobs", body, format="json")


def run(job_id: str) -> TrainingJob:
    services.training_job_run(job_id=job_id)
    return TrainingJob.objects.get(pk=job_id)


def test_algorithms_are_listed_with_their_params(api):
    data = {a["name"]: a for a in api.get("/v1/algorithms").json()["data"]}
    for name in [
        "logistic_regression",
        "linear_regression",
        "ridge",
        "random_forest_classifier",
        "random_forest_regressor",
        "gradient_boosting_classifier",
        "gradient_boosting_regressor",
        "mlp_classifier",
        "mlp_regressor",
    ]:
        assert name in data
    forest = data["random_forest_classifier"]
    assert forest["framework"] == "sklearn" and forest["task"] == "classification"
    assert forest["price_tier"] == "standard"
    assert forest["params"]["n_estimators"] == {
        "type": "int",
        "default": 100,
        "min": 1,
        "max": 1000,
        "description": "trees",
    }
    assert data["mlp_classifier"]["price_tier"] == "heavy"
    assert data["logistic_regression"]["price_tier"] == "light"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"algorithm": "magic"}, "algorithm"),
        ({"params": {"n_trees": 5}}, "params.n_trees"),
        ({"params": {"n_estimators": 0}}, "params.n_estimators"),
        ({"params": {"n_estimators": 2.5}}, "params.n_estimators"),
        ({"params": {"max_depth": "deep"}}, "params.max_depth"),
        ({"params": "fast"}, "params"),
        ({"target": "nope"}, "target"),
        ({"features": ["mean_radius", "nope"]}, "features[1]"),
        ({"features": ["diagnosis"]}, "features[0]"),
        ({"features": []}, "features"),
        ({"validation_split": 0.9}, "validation_split"),
        ({"model": "bad name!"}, "model"),
        ({"algorithm": "ridge"}, "target"),  # a regressor on a string target
        ({"dataset": None}, "dataset"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_every_validation_error_names_its_param(api, cancer_dataset, body, param):
    payload = {
        "dataset": cancer_dataset.pk,
        "target": "diagnosis",
        "algorithm": "random_forest_classifier",
        **body,
    }
    error = assert_error(create(api, **payload), 400, "invalid_request_error")
    assert error["param"] == param, error
    assert not TrainingJob.objects.exists()


def test_another_tenants_dataset_cannot_be_used(api, other_tenant, cancer_csv, settings):
    settings.MAAS_USAGE_SINK = "database"
    theirs = make_dataset(other_tenant, cancer_csv)
    response = create(api, dataset=theirs.pk, target="diagnosis", algorithm="logistic_regression")
    error = assert_error(response, 404, "not_found_error")
    assert error["param"] == "dataset"


def test_concurrency_limit_is_429(client_for, cancer_csv, settings):
    settings.MAAS_USAGE_SINK = "database"
    tenant = TenantFactory(max_concurrent_jobs=1)
    api = client_for(ApiKeyFactory(tenant=tenant))
    dataset = make_dataset(tenant, cancer_csv)
    body = {"dataset": dataset.pk, "target": "diagnosis", "algorithm": "logistic_regression"}
    assert create(api, **body).status_code == 202
    response = create(api, **body)
    assert_error(response, 429, "rate_limit_error", "concurrency_limit")
    assert response.headers["Retry-After"] == "30"


def test_spend_limit_is_402(api, tenant, cancer_dataset):
    from decimal import Decimal

    from django.utils import timezone

    from billing.models import SpendStatus
    from billing.rollups import month_start

    type(tenant).objects.filter(pk=tenant.pk).update(spend_limit=Decimal("1.00"))
    SpendStatus.objects.create(tenant=tenant, period_start=month_start(timezone.now()), amount=5)
    body = {"dataset": cancer_dataset.pk, "target": "diagnosis", "algorithm": "logistic_regression"}
    assert_error(create(api, **body), 402, "spend_limit_error", "spend_limit_reached")


def test_train_publish_and_bill_once(api, tenant, cancer_dataset):
    body = {
        "dataset": cancer_dataset.pk,
        "target": "diagnosis",
        "algorithm": "logistic_regression",
        "model": "cancer",
    }
    created = create(api, **body)
    assert created.status_code == 202
    job = created.json()
    assert job["status"] == "queued" and job["object"] == "training_job" and job["model"] is None
    assert job["params"] == {"C": 1.0, "max_iter": 1000}
    assert len(job["features"]) == 30
    finished = run(job["id"])
    assert finished.status == "succeeded", (finished.error_code, finished.error_message)
    assert finished.metrics["accuracy"] >= 0.9 and "log_loss" in finished.metrics
    version = ModelVersion.objects.get(model__tenant=tenant, model__name="cancer")
    assert version.version == 1 and version.onnx_path and version.onnx_parity["passed"]
    assert version.signature["classes"] == ["benign", "malignant"]
    assert version.signature["inputs"][0] == {
        "name": "mean_radius",
        "dtype": "number",
        "onnx_input": "in_0",
    }
    usage = UsageEvent.objects.filter(tenant=tenant).exclude(meter="data.ingested_bytes")
    assert sorted(usage.values_list("meter", flat=True)) == [
        "compute.cpu_seconds",
        "data.processed_rows",
    ]
    rows = usage.get(meter="data.processed_rows")
    assert rows.quantity == 569 and rows.dimensions["job"] == job["id"]
    run(job["id"])  # delivered twice: nothing more happens
    assert usage.count() == 2 and ModelVersion.objects.count() == 1

    detail = api.get(f"/v1/training-jobs/{job['id']}").json()
    assert detail["status"] == "succeeded" and detail["progress"] == 1.0
    assert detail["model"] == version.model_id and detail["model_version"] == 1
    assert (
        float(detail["usage"]["compute_seconds"]) > 0 and detail["usage"]["rows_processed"] == 569
    )
    events = api.get(f"/v1/training-jobs/{job['id']}/events", {"limit": 100}).json()["data"]
    messages = [e["message"] for e in events]
    assert "started" in messages and "succeeded" in messages and "validation metrics" in messages

    second = create(
        api, **{**body, "algorithm": "random_forest_classifier", "params": {"n_estimators": 30}}
    )
    assert run(second.json()["id"]).status == "succeeded"
    model = Model.objects.get(tenant=tenant, name="cancer")
    assert model.latest_version == 2
    versions = api.get(f"/v1/models/{model.pk}/versions").json()["data"]
    assert [v["version"] for v in versions] == [2, 1]
    v2 = api.get(f"/v1/models/{model.pk}/versions/2").json()
    assert v2["algorithm"] == "random_forest_classifier" and v2["price_tier"] == "standard"
    assert v2["metrics"]["accuracy"] >= 0.9 and v2["onnx"]["available"] is True
    assert api.get(f"/v1/models/{model.pk}").json()["latest_version"] == 2


def test_regression_on_a_numeric_target(api, cancer_dataset):
    body = {
        "dataset": cancer_dataset.pk,
        "target": "mean_area",
        "algorithm": "ridge",
        "features": ["mean_radius", "mean_perimeter", "diagnosis"],
    }
    job = run(create(api, **body).json()["id"])
    assert job.status == "succeeded", job.error_message
    assert set(job.metrics) == {"r2", "rmse", "mae", "mape"} and job.metrics["r2"] > 0.9
    version = ModelVersion.objects.get()
    assert version.onnx_parity["passed"], version.onnx_parity  # a string feature, one-hot in ONNX


def test_cancel(api, cancer_dataset):
    body = {"dataset": cancer_dataset.pk, "target": "diagnosis", "algorithm": "logistic_regression"}
    queued = create(api, **body).json()
    canceled = api.post(f"/v1/training-jobs/{queued['id']}/cancel").json()
    assert canceled["status"] == "canceled"
    assert run(queued["id"]).status == "canceled"  # a canceled job never starts
    assert_error(
        api.post(f"/v1/training-jobs/{queued['id']}/cancel"), 409, "conflict_error", "job_finished"
    )

    running = create(api, **body).json()
    TrainingJob.objects.filter(pk=running["id"]).update(
        status="running", attempts=1, heartbeat_at=timezone.now(), worker=live_worker()
    )
    assert api.post(f"/v1/training-jobs/{running['id']}/cancel").json()["status"] == "cancelling"
    assert run(running["id"]).status == "cancelling"  # a second delivery leaves it to its worker

    orphan = create(api, **body).json()
    TrainingJob.objects.filter(pk=orphan["id"]).update(
        status="running", attempts=1, heartbeat_at=timezone.now(), worker=dead_worker()
    )
    assert api.post(f"/v1/training-jobs/{orphan['id']}/cancel").json()["status"] == "canceled"


def test_a_running_job_stops_at_the_next_check(api, tenant, cancer_dataset, monkeypatch):
    body = {
        "dataset": cancer_dataset.pk,
        "target": "diagnosis",
        "algorithm": "random_forest_classifier",
        "params": {"n_estimators": 200},
    }
    job_id = create(api, **body).json()["id"]
    from training import trainers

    calls = {"n": 0}
    original = trainers._train_sklearn

    def cancel_midway(*args, **kwargs):
        reporter = args[-1]
        real_progress = reporter.progress

        def progress(fraction, message, **data):
            real_progress(fraction, message, **data)
            calls["n"] += 1
            if data.get("estimators") == 20:
                TrainingJob.objects.filter(pk=job_id).update(status="cancelling")

        reporter.progress = progress
        return original(*args, **kwargs)

    monkeypatch.setattr(trainers, "_train_sklearn", cancel_midway)
    job = run(job_id)
    assert job.status == "canceled" and job.progress < 0.5
    compute = UsageEvent.objects.get(tenant=tenant, meter="compute.cpu_seconds")
    assert compute.quantity > 0  # the time it ran is billed, once
    assert not ModelVersion.objects.exists()


def test_parity_check_rejects_an_export_that_disagrees(api, cancer_dataset, monkeypatch):
    from training import onnx_export, trainers

    real = onnx_export.sklearn_to_onnx

    def wrong_export(pipeline, X, *, classifier):
        import copy

        broken = copy.deepcopy(pipeline)
        broken.steps[-1][1].coef_ = -broken.steps[-1][1].coef_  # predicts the other class
        return real(broken, X, classifier=classifier)

    monkeypatch.setattr(trainers, "sklearn_to_onnx", wrong_export)
    body = {"dataset": cancer_dataset.pk, "target": "diagnosis", "algorithm": "logistic_regression"}
    job = run(create(api, **body).json()["id"])
    assert job.status == "succeeded"
    version = ModelVersion.objects.get()
    assert version.onnx_parity["passed"] is False and version.onnx_path == ""
    assert version.onnx_parity["label_agreement"] < 0.5


def test_bad_data_fails_with_a_clear_error(api, tenant, settings):
    settings.MAAS_USAGE_SINK = "database"
    dataset = make_dataset(tenant, b"x,y\n" + b"1,a\n2,b\n" * 3)  # valid, but too small
    job = run(
        create(api, dataset=dataset.pk, target="y", algorithm="logistic_regression").json()["id"]
    )
    assert job.status == "failed" and job.error_code == "invalid_training_data"
    assert "at least 10" in job.error_message


def test_a_job_whose_worker_died_twice_fails(api, cancer_dataset):
    body = {"dataset": cancer_dataset.pk, "target": "diagnosis", "algorithm": "logistic_regression"}
    job_id = create(api, **body).json()["id"]
    TrainingJob.objects.filter(pk=job_id).update(status="running", attempts=2)
    job = run(job_id)
    assert job.status == "failed" and job.error_code == "worker_lost"


def test_the_reaper_queues_a_silent_job_again_then_fails_it(
    api, cancer_dataset, django_capture_on_commit_callbacks
):
    body = {"dataset": cancer_dataset.pk, "target": "diagnosis", "algorithm": "logistic_regression"}
    job_id = create(api, **body).json()["id"]
    silent = timezone.now() - timedelta(minutes=5)
    TrainingJob.objects.filter(pk=job_id).update(status="running", attempts=1, heartbeat_at=silent)
    with django_capture_on_commit_callbacks() as enqueued:
        assert job_reap_all() == 1
    job = TrainingJob.objects.get(pk=job_id)
    assert job.status == "queued" and len(enqueued) == 1  # its task is sent again
    assert run(job_id).status == "succeeded"  # the second attempt

    again = create(api, **body).json()["id"]
    TrainingJob.objects.filter(pk=again).update(status="running", attempts=2, heartbeat_at=silent)
    assert job_reap_all() == 1
    job = TrainingJob.objects.get(pk=again)
    assert job.status == "failed" and job.error_code == "worker_lost"


def test_models_of_another_tenant_are_404_and_delete_works(
    api, client_for, other_tenant, cancer_dataset
):
    body = {
        "dataset": cancer_dataset.pk,
        "target": "diagnosis",
        "algorithm": "logistic_regression",
        "model": "m",
    }
    run(create(api, **body).json()["id"])
    model = Model.objects.get()
    intruder = client_for(ApiKeyFactory(tenant=other_tenant))
    for path in [
        f"/v1/models/{model.pk}",
        f"/v1/models/{model.pk}/versions",
        f"/v1/models/{model.pk}/versions/1",
    ]:
        assert_error(intruder.get(path), 404, "not_found_error")
    assert_error(intruder.delete(f"/v1/models/{model.pk}"), 404, "not_found_error")
    assert api.delete(f"/v1/models/{model.pk}").json()["deleted"] is True
    assert not Model.objects.exists() and not ModelVersion.objects.exists()


def test_large_image_jobs_go_to_gpu_workers(api, tenant, settings):
    from tests.helpers import digits_zip

    images = make_dataset(tenant, digits_zip(limit=50), "digits.zip")
    settings.MAAS_GPU_WORKERS = True
    body = {"dataset": images.pk, "target": "label", "algorithm": "cnn_image_classifier"}
    # work = images x image_size^2 x filters x epochs = 50 x 28^2 x 32 x 10
    settings.MAAS_GPU_MIN_WORK = 50 * 28**2 * 32 * 10
    assert TrainingJob.objects.get(pk=create(api, **body).json()["id"]).queue == "training_gpu"
    settings.MAAS_GPU_MIN_WORK += 1
    TrainingJob.objects.all().delete()
    assert TrainingJob.objects.get(pk=create(api, **body).json()["id"]).queue == "training"
