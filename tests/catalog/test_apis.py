"""The catalog's endpoints beyond datasets: downloading a version's ONNX file."""

import hashlib

import numpy as np
import pytest

from catalog.models import ModelVersion
from tests.factories import ApiKeyFactory
from tests.helpers import assert_error
from tests.training.conftest import breast_cancer_csv, make_dataset
from training.services import training_job_create, training_job_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(tenant, settings):
    settings.MAAS_USAGE_SINK = "database"
    dataset = make_dataset(tenant, breast_cancer_csv(), "cancer.csv")
    job = training_job_create(
        tenant=tenant, dataset=dataset.pk, target="diagnosis", algorithm="random_forest_classifier"
    )
    training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    return job, dataset


def onnx_of(api, model_id: str, n: int = 1):
    response = api.get(f"/v1/models/{model_id}/versions/{n}/onnx")
    return response, b"".join(response.streaming_content) if response.status_code == 200 else b""


def test_the_downloaded_file_runs_in_onnxruntime_as_the_api_predicts(api, trained):
    import onnxruntime as ort

    job, _ = trained
    response, data = onnx_of(api, job.model_id)
    assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    assert int(response["Content-Length"]) == len(data)
    assert response["Content-Disposition"].endswith(f'"{job.model_id}-v1.onnx"')

    version = api.get(f"/v1/models/{job.model_id}/versions/1").json()
    features = [i["name"] for i in version["signature"]["inputs"]]
    rng = np.random.default_rng(0)
    rows = [{f: float(rng.normal(10, 5)) for f in features} for _ in range(50)]
    answer = api.post(f"/v1/models/{job.model_id}/predict", {"inputs": rows}, format="json")
    assert answer.status_code == 200, answer.json()

    # As docs/models.md runs it: one [n, 1] float32 tensor per input, in the signature's order.
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert len(names) == len(features)
    feed = {
        name: np.array([[row[f]] for row in rows], dtype=np.float32)
        for name, f in zip(names, features, strict=True)
    }
    probabilities = np.asarray(session.run(None, feed)[-1]).reshape(len(rows), -1)
    classes = version["signature"]["classes"]
    assert [classes[i] for i in probabilities.argmax(axis=1)] == answer.json()["predictions"]
    np.testing.assert_allclose(probabilities, answer.json()["probabilities"], rtol=1e-6)


def test_a_version_without_an_export_is_409(api, trained):
    job, _ = trained
    ModelVersion.objects.filter(model_id=job.model_id).update(
        onnx_path="", onnx_sha256="", onnx_parity={"passed": False, "error": "ValueError: boom"}
    )
    response, _ = onnx_of(api, job.model_id)
    error = assert_error(response, 409, "conflict_error", "model_not_exportable")
    assert "ValueError: boom" in error["message"]


def test_unknown_versions_and_other_tenants_are_404(api, trained, client_for, other_tenant):
    job, _ = trained
    assert_error(onnx_of(api, job.model_id, 2)[0], 404, "not_found_error")
    assert_error(api.get(f"/v1/models/{job.model_id}/versions/x/onnx"), 404, "not_found_error")
    intruder = client_for(ApiKeyFactory(tenant=other_tenant))
    assert_error(onnx_of(intruder, job.model_id)[0], 404, "not_found_error")


def test_a_file_changed_on_disk_is_not_sent(api, trained, settings):
    from django.core.files.storage import default_storage

    job, _ = trained
    version = ModelVersion.objects.get(model_id=job.model_id)
    with default_storage.open(version.onnx_path, "wb") as f:
        f.write(b"not the model")
    response = api.get(f"/v1/models/{job.model_id}/versions/1/onnx")
    assert_error(response, 500, "api_error", "internal_error")
