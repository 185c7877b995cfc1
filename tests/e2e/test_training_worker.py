"""Training and batch inference over HTTP with real Celery worker processes (not eager mode),
on whatever broker and database this run uses (the filesystem broker and SQLite, or Redis and
PostgreSQL), and what happens to a job when its worker is killed."""

import io
import json
import os
import signal
import time

import pytest

from billing.models import UsageEvent
from inference.models import InferenceJob
from tests.e2e.conftest import kill_whole_worker
from tests.helpers import new_tenant, wait_for
from tests.training.conftest import breast_cancer_csv
from training.models import TrainingJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]


def wait_until_working(model, job_id: str, timeout: float = 60):
    """The job's row once its attempt is past its first progress report."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = model.objects.get(pk=job_id)
        if job.status == "running" and job.progress > 0 and job.worker:
            return job
        assert job.status in ("queued", "running"), job.status
        time.sleep(0.05)
    raise AssertionError(f"{job_id} did not start working within {timeout} s")


def billed_once(tenant_id: str, job_id: str) -> list[str]:
    """The meters of the job's usage events, checked to be one each."""
    usage = UsageEvent.objects.filter(tenant_id=tenant_id, idempotency_key__startswith=job_id)
    meters = sorted(usage.values_list("meter", flat=True))
    assert len(meters) == len(set(meters)), meters
    return meters


@pytest.fixture
def cancer(http):
    created = new_tenant()
    api = http(created["api_key"])
    upload = api.post("/v1/datasets", files={"file": ("cancer.csv", breast_cancer_csv())})
    assert upload.status_code == 201, upload.text
    return api, upload.json()["id"], created["tenant_id"]


def test_train_two_versions_and_cancel_a_long_job(worker, cancer):
    api, dataset, _ = cancer
    worker()
    body = {"dataset": dataset, "target": "diagnosis", "model": "cancer"}
    first = api.post("/v1/training-jobs", json={**body, "algorithm": "logistic_regression"}).json()
    done = wait_for(api, first["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done["error"]
    assert done["metrics"]["accuracy"] >= 0.9 and done["model_version"] == 1

    second = api.post(
        "/v1/training-jobs", json={**body, "algorithm": "random_forest_classifier"}
    ).json()
    done = wait_for(api, second["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done["error"]
    assert done["metrics"]["accuracy"] >= 0.9 and done["model_version"] == 2
    versions = api.get(f"/v1/models/{done['model']}/versions").json()["data"]
    assert [v["version"] for v in versions] == [2, 1]

    long = api.post(
        "/v1/training-jobs",
        json={
            **body,
            "algorithm": "gradient_boosting_classifier",
            "params": {"n_estimators": 2000, "max_depth": 6, "learning_rate": 0.01},
        },
    ).json()
    wait_for(api, long["id"], {"running"}, timeout=60)
    assert api.post(f"/v1/training-jobs/{long['id']}/cancel").json()["status"] in (
        "cancelling",
        "canceled",
    )
    canceled = wait_for(api, long["id"], {"canceled", "succeeded", "failed"})
    assert canceled["status"] == "canceled" and canceled["model_version"] is None
    assert float(canceled["usage"]["compute_seconds"]) > 0


TRAIN = {"target": "diagnosis", "algorithm": "logistic_regression"}


def test_a_pool_process_killed_mid_job_is_retried_and_billed_once(worker, cancer):
    api, dataset, tenant_id = cancer
    worker(slow=True)
    job = api.post("/v1/training-jobs", json={**TRAIN, "dataset": dataset}).json()
    running = wait_until_working(TrainingJob, job["id"])
    os.kill(int(running.worker.rpartition(":")[2]), signal.SIGKILL)  # the pool process only
    done = wait_for(api, job["id"], {"succeeded", "failed"}, timeout=120)
    assert done["status"] == "succeeded", done["error"]
    assert TrainingJob.objects.get(pk=job["id"]).attempts == 2
    events = api.get(f"/v1/training-jobs/{job['id']}/events", params={"limit": 100}).json()
    assert any("stopped unexpectedly" in e["message"] for e in events["data"])
    assert billed_once(tenant_id, job["id"]) == ["compute.cpu_seconds", "data.processed_rows"]


def test_a_whole_worker_killed_mid_training_job_is_retried_by_a_new_one(worker, cancer):
    api, dataset, tenant_id = cancer
    first = worker(slow=True)
    job = api.post("/v1/training-jobs", json={**TRAIN, "dataset": dataset}).json()
    wait_until_working(TrainingJob, job["id"])
    kill_whole_worker(first)
    started = time.monotonic()
    worker(beat=True)
    done = wait_for(api, job["id"], {"succeeded", "failed", "canceled"}, timeout=120)
    assert done["status"] == "succeeded", done["error"]
    assert time.monotonic() - started < 120
    assert done["model_version"] == 1 and TrainingJob.objects.get(pk=job["id"]).attempts == 2
    assert billed_once(tenant_id, job["id"]) == ["compute.cpu_seconds", "data.processed_rows"]


def test_a_whole_worker_killed_mid_batch_job_is_retried_by_a_new_one(worker, cancer):
    api, dataset, tenant_id = cancer
    first = worker(slow=True)
    trained = api.post("/v1/training-jobs", json={**TRAIN, "dataset": dataset}).json()
    model = wait_for(api, trained["id"], {"succeeded", "failed"})["model"]
    job = api.post("/v1/inference-jobs", json={"model": model, "dataset": dataset}).json()
    wait_until_working(InferenceJob, job["id"])
    kill_whole_worker(first)
    started = time.monotonic()
    worker(beat=True)
    done = wait_for(api, job["id"], {"succeeded", "failed", "canceled"}, timeout=120)
    assert done["status"] == "succeeded", done["error"]
    assert time.monotonic() - started < 120
    assert done["request_counts"] == {"total": 569, "completed": 569, "failed": 0}
    assert InferenceJob.objects.get(pk=job["id"]).attempts == 2
    results = api.get(f"/v1/inference-jobs/{job['id']}/results").text.splitlines()
    assert [json.loads(line)["row"] for line in results] == list(range(569))
    meters = billed_once(tenant_id, job["id"])
    assert meters == ["compute.cpu_seconds", "data.processed_rows", "predictions"]
    predictions = UsageEvent.objects.get(idempotency_key=f"{job['id']}:predictions")
    assert predictions.quantity == 569


def test_cancelling_a_job_whose_worker_was_killed_cancels_it(worker, cancer):
    api, dataset, tenant_id = cancer
    first = worker(slow=True)
    job = api.post("/v1/training-jobs", json={**TRAIN, "dataset": dataset}).json()
    wait_until_working(TrainingJob, job["id"])
    kill_whole_worker(first)
    canceled = api.post(f"/v1/training-jobs/{job['id']}/cancel").json()
    assert canceled["status"] == "canceled" and canceled["finished_at"]
    worker(beat=True)  # a new worker (and the reaper) leave it canceled
    time.sleep(5)
    assert api.get(f"/v1/training-jobs/{job['id']}").json()["status"] == "canceled"
    assert billed_once(tenant_id, job["id"]) == []


@pytest.mark.tensorflow
def test_a_small_keras_network_on_the_worker(worker, cancer):
    api, dataset, _ = cancer
    worker()
    job = api.post(
        "/v1/training-jobs",
        json={
            "dataset": dataset,
            "target": "diagnosis",
            "algorithm": "mlp_classifier",
            "params": {"hidden_units": [16], "epochs": 5, "batch_size": 64},
        },
    ).json()
    done = wait_for(api, job["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done["error"]
    assert done["metrics"]["accuracy"] >= 0.85
    version = api.get(f"/v1/models/{done['model']}/versions/1").json()
    assert version["framework"] == "keras" and version["onnx"]["available"] is True


def test_sync_and_batch_predictions_agree_exactly(worker, cancer):
    api, dataset, _ = cancer
    worker()
    job = api.post(
        "/v1/training-jobs",
        json={
            "dataset": dataset,
            "target": "diagnosis",
            "algorithm": "random_forest_classifier",
            "params": {"n_estimators": 20},
        },
    ).json()
    model = wait_for(api, job["id"], {"succeeded", "failed"})["model"]
    batch = api.post("/v1/inference-jobs", json={"model": model, "dataset": dataset}).json()
    deadline = time.monotonic() + 120
    while True:
        state = api.get(f"/v1/inference-jobs/{batch['id']}").json()
        if state["status"] in ("succeeded", "failed"):
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.3)
    assert state["status"] == "succeeded", state
    results = [
        json.loads(x)
        for x in api.get(f"/v1/inference-jobs/{batch['id']}/results").text.splitlines()
    ]
    import csv as csv_module

    rows = list(csv_module.DictReader(io.StringIO(breast_cancer_csv().decode())))
    features = [k for k in rows[0] if k != "diagnosis"]
    inputs = [{k: float(row[k]) for k in features} for row in rows]
    sync = api.post(f"/v1/models/{model}/predict", json={"inputs": inputs}).json()
    assert sync["predictions"] == [r["prediction"] for r in results]
    assert sync["probabilities"] == [r["probabilities"] for r in results]
    labels = [row["diagnosis"] for row in rows]
    assert sum(p == t for p, t in zip(sync["predictions"], labels, strict=True)) / len(rows) > 0.95


def test_a_workers_first_job_is_billed_as_its_later_ones(worker, cancer):
    """The first job in a fresh worker process imports the frameworks; that start-up is ours,
    not the tenant's: its compute is measured from after the warm-up."""
    api, dataset, _ = cancer
    worker()
    seconds = []
    for _ in range(3):
        job = api.post("/v1/training-jobs", json={**TRAIN, "dataset": dataset}).json()
        done = wait_for(api, job["id"], {"succeeded", "failed"})
        assert done["status"] == "succeeded", done["error"]
        seconds.append(float(done["usage"]["compute_seconds"]))
    first, *later = seconds
    assert all(s > 0 for s in seconds), seconds
    assert abs(first - max(later)) <= 0.5, seconds
