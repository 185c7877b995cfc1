"""A small Keras network, end to end in process (TensorFlow: marked, kept small)."""

import pytest

from catalog.models import ModelVersion
from tests.training.test_training import create, run

pytestmark = [pytest.mark.django_db, pytest.mark.tensorflow]


def test_mlp_classifier_trains_exports_and_matches_onnx(api, cancer_dataset):
    body = {
        "dataset": cancer_dataset.pk,
        "target": "diagnosis",
        "algorithm": "mlp_classifier",
        "params": {"hidden_units": [16], "epochs": 8, "batch_size": 64},
        "model": "net",
    }
    job = run(create(api, **body).json()["id"])
    assert job.status == "succeeded", (job.error_code, job.error_message)
    assert job.metrics["accuracy"] >= 0.9
    version = ModelVersion.objects.get(model__name="net")
    assert version.framework == "keras" and version.price_tier == "heavy"
    assert version.onnx_parity["passed"], version.onnx_parity
    assert version.onnx_path and version.native_path.endswith(".zip")
    epochs = [e for e in job.events.all() if e.message.startswith("epoch ")]
    assert 1 <= len(epochs) <= 8 and "val_loss" in epochs[0].data
