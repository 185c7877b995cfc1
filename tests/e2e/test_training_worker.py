"""Training over HTTP with a real Celery worker process (not eager mode), on whatever broker
and database this run uses (the filesystem broker and SQLite, or Redis and PostgreSQL)."""

import io
import json
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import UsageEvent
from maas.celery import app as celery_app
from tests.billing.subprocess_env import ROOT, child_env
from tests.training.conftest import breast_cancer_csv
from training.models import TrainingJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]


@pytest.fixture
def worker(settings, tmp_path):
    """Starts a worker on the training queue; yields a function to start it with extra env."""
    settings.MAAS_USAGE_SINK = "database"
    processes = []

    def start(**extra_env: str) -> subprocess.Popen:
        celery_app.control.purge()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "maas",
                "worker",
                "-Q",
                "training,inference,default",
                "-c",
                "1",
                "--pool",
                "prefork",
                "-l",
                "warning",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=child_env(
                MAAS_MEDIA_ROOT=str(settings.MEDIA_ROOT), MAAS_USAGE_SINK="database", **extra_env
            ),
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"worker-{len(processes)}.log", "w"),  # noqa: SIM115
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def new_tenant() -> dict:
    out = StringIO()
    call_command("create_tenant", "Acme", "--plan", "enterprise", stdout=out)
    return json.loads(out.getvalue())


def wait_for(api, job_id: str, statuses: set[str], timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/v1/training-jobs/{job_id}", headers={"Prefer": "wait=5"}).json()
        if job["status"] in statuses:
            return job
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


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


def test_a_worker_killed_mid_job_is_retried_and_billed_once(worker, cancer):
    api, dataset, tenant_id = cancer
    worker(MAAS_FAULT_INJECT="training_first_attempt")
    job = api.post(
        "/v1/training-jobs",
        json={"dataset": dataset, "target": "diagnosis", "algorithm": "logistic_regression"},
    ).json()
    done = wait_for(api, job["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done["error"]
    assert TrainingJob.objects.get(pk=job["id"]).attempts == 2
    events = [
        e["message"]
        for e in api.get(f"/v1/training-jobs/{job['id']}/events", params={"limit": 100}).json()[
            "data"
        ]
    ]
    assert any("stopped unexpectedly" in m for m in events)
    usage = UsageEvent.objects.filter(tenant_id=tenant_id, idempotency_key__startswith=job["id"])
    assert sorted(usage.values_list("meter", flat=True)) == [
        "compute.cpu_seconds",
        "data.processed_rows",
    ]


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
