"""Image models end to end over HTTP with a real worker: a digits archive (scikit-learn's
bundled images as PNGs, made offline) trains `cnn_image_classifier`, predicts base64 PNGs and
runs a batch job whose results name each image's archive path."""

import base64
import io
import time
import zipfile

import orjson
import pytest

from tests.helpers import assert_error, digits_zip, new_tenant, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("price_books"),
    pytest.mark.tensorflow,
]


def test_digits_train_predict_and_batch(worker, http):
    worker()
    created = new_tenant()
    api = http(created["api_key"])
    archive = digits_zip()
    upload = api.post("/v1/datasets", files={"file": ("digits.zip", archive)})
    assert upload.status_code == 201, upload.text
    dataset = upload.json()
    assert dataset["format"] == "images" and dataset["n_rows"] == 1797

    started = time.monotonic()
    job = api.post(
        "/v1/training-jobs",
        json={
            "dataset": dataset["id"],
            "target": "label",
            "algorithm": "cnn_image_classifier",
            "params": {"image_size": 16, "epochs": 8, "filters": 16, "dense_units": 64},
        },
    ).json()
    done = wait_for(api, job["id"], {"succeeded", "failed"})
    elapsed = time.monotonic() - started
    assert done["status"] == "succeeded", done["error"]
    assert done["metrics"]["accuracy"] >= 0.9, done["metrics"]
    assert elapsed < 120, elapsed
    model = done["model"]
    version = api.get(f"/v1/models/{model}/versions/1").json()
    assert version["onnx"]["available"] is True, version["onnx"]
    assert version["signature"]["inputs"][0]["dtype"] == "image"
    evaluation = api.get(f"/v1/models/{model}/versions/1/evaluation").json()
    assert len(evaluation["validation"]["confusion_matrix"]["labels"]) == 10

    with zipfile.ZipFile(io.BytesIO(archive)) as members:
        everything = sorted(members.namelist())
        names = everything[::57][:32]  # every class
        rows = [{"image": base64.b64encode(members.read(n)).decode()} for n in names]
    predicted = api.post(f"/v1/models/{model}/predict", json={"inputs": rows}).json()
    truth = [n.split("/")[0] for n in names]
    hits = sum(p == t for p, t in zip(predicted["predictions"], truth, strict=True))
    assert len(set(truth)) == 10 and hits >= 28, (predicted["predictions"], truth)
    bad = api.post(f"/v1/models/{model}/predict", json={"inputs": [rows[0], {"image": "Zm9v"}]})
    assert assert_error(bad, 400, "invalid_request_error")["param"] == "inputs[1].image"
    explained = api.post(f"/v1/models/{model}/explain", json={"inputs": rows[:1]})
    assert_error(explained, 409, "conflict_error", "model_not_explainable")

    batch = api.post("/v1/inference-jobs", json={"model": model, "dataset": dataset["id"]}).json()
    finished = wait_for(api, batch["id"], {"succeeded", "failed"})
    assert finished["status"] == "succeeded", finished["error"]
    assert finished["request_counts"]["completed"] == 1797
    lines = api.get(f"/v1/inference-jobs/{batch['id']}/results").content.splitlines()
    results = [orjson.loads(line) for line in lines]
    assert [r["source"] for r in results] == everything  # archive order, one per image
    by_source = {r["source"]: r["prediction"] for r in results}
    assert [by_source[n] for n in names] == predicted["predictions"]  # as predict answers
