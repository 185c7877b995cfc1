import csv
import io
import json

import pytest

from billing.models import UsageEvent
from catalog.models import ModelVersion
from inference.batch import inference_job_run
from inference.models import InferenceJob
from inference.runtime import cache_clear, runtime_for
from tests.helpers import assert_error
from tests.training.conftest import make_dataset
from tests.training.test_training import create, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(api, cancer_dataset):
    cache_clear()
    job = run(
        create(
            api,
            dataset=cancer_dataset.pk,
            target="diagnosis",
            algorithm="logistic_regression",
            model="lr",
        ).json()["id"]
    )
    assert job.status == "succeeded"
    return job.model_id


def batch(api, **body):
    return api.post("/v1/inference-jobs", body, format="json")


def test_batch_agrees_exactly_with_sync_predictions(api, tenant, model, cancer_dataset):
    # A logistic regression is answered with numpy (inference.linear) on both paths.
    assert runtime_for(ModelVersion.objects.get(model_id=model)).engine == "linear"
    created = batch(api, model=model, dataset=cancer_dataset.pk)
    assert created.status_code == 202, created.json()
    job = created.json()
    assert job["object"] == "inference_job" and job["status"] == "queued"
    assert job["request_counts"] == {"total": 569, "completed": 0, "failed": 0}
    inference_job_run(job_id=job["id"])
    done = api.get(f"/v1/inference-jobs/{job['id']}").json()
    assert done["status"] == "succeeded" and done["request_counts"]["completed"] == 569
    results = [
        json.loads(line)
        for line in api.get(f"/v1/inference-jobs/{job['id']}/results").getvalue().splitlines()
    ]
    assert [r["row"] for r in results] == list(range(569))

    from catalog.selectors import dataset_open

    with dataset_open(dataset=cancer_dataset) as f:
        rows = list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8")))
    features = [c["name"] for c in cancer_dataset.columns if c["name"] != "diagnosis"]
    inputs = [{name: float(row[name]) for name in features} for row in rows[:100]]
    sync = api.post(f"/v1/models/{model}/predict", {"inputs": inputs}, format="json").json()
    assert sync["predictions"] == [r["prediction"] for r in results[:100]]
    assert sync["probabilities"] == [r["probabilities"] for r in results[:100]]

    as_csv = api.get(f"/v1/inference-jobs/{job['id']}/results", {"format": "csv"})
    lines = as_csv.getvalue().decode().splitlines()
    assert lines[0] == "row,prediction,p_benign,p_malignant" and len(lines) == 570
    meters = dict(
        UsageEvent.objects.filter(tenant=tenant, idempotency_key__startswith=job["id"]).values_list(
            "meter", "quantity"
        )
    )
    assert meters["predictions"] == 569 and meters["data.processed_rows"] == 569
    assert meters["compute.cpu_seconds"] > 0
    inference_job_run(job_id=job["id"])  # delivered twice: nothing more
    assert (
        UsageEvent.objects.filter(tenant=tenant, idempotency_key__startswith=job["id"]).count() == 3
    )


def test_bad_rows_go_to_the_error_file(api, tenant, model, cancer_csv):
    text = cancer_csv.decode().splitlines()
    header = text[0].split(",")
    broken = text[2].split(",")
    broken[header.index("mean_texture")] = "lots"
    content = "\n".join([text[0], text[1], ",".join(broken), text[3]]) + "\n"
    dataset = make_dataset(tenant, content.encode(), "mixed.csv")
    job = batch(api, model=model, dataset=dataset.pk).json()
    inference_job_run(job_id=job["id"])
    done = api.get(f"/v1/inference-jobs/{job['id']}").json()
    assert done["status"] == "succeeded"
    assert done["request_counts"] == {"total": 3, "completed": 2, "failed": 1}
    errors = [
        json.loads(x)
        for x in b"".join(
            api.get(f"/v1/inference-jobs/{job['id']}/errors").streaming_content
        ).splitlines()
    ]
    assert errors == [
        {"row": 1, "error": "mean_texture: could not convert string to float: 'lots'"}
    ]
    results = [
        json.loads(x)["row"]
        for x in api.get(f"/v1/inference-jobs/{job['id']}/results").getvalue().splitlines()
    ]
    assert results == [0, 2]


def test_validation_cancel_and_not_ready(
    api, model, cancer_dataset, other_tenant, client_for, tenant
):
    assert_error(batch(api, model="mdl_nope", dataset=cancer_dataset.pk), 404, "not_found_error")
    assert_error(batch(api, model=model, dataset="ds_nope"), 404, "not_found_error")
    assert_error(
        batch(api, model=model, dataset=cancer_dataset.pk, version=7), 404, "not_found_error"
    )
    assert_error(batch(api, model=model), 400, "invalid_request_error")
    other = make_dataset(tenant, b"x\n1\n2\n", "other.csv")
    error = assert_error(batch(api, model=model, dataset=other.pk), 400, "invalid_request_error")
    assert "mean_radius" in error["message"]
    job = batch(api, model=model, dataset=cancer_dataset.pk).json()
    assert_error(
        api.get(f"/v1/inference-jobs/{job['id']}/results"),
        409,
        "conflict_error",
        "job_not_finished",
    )
    assert api.post(f"/v1/inference-jobs/{job['id']}/cancel").json()["status"] == "canceled"
    inference_job_run(job_id=job["id"])
    assert InferenceJob.objects.get(pk=job["id"]).status == "canceled"
    assert_error(
        api.post(f"/v1/inference-jobs/{job['id']}/cancel"), 409, "conflict_error", "job_finished"
    )
