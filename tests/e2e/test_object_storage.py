"""Processes that share nothing but addresses: a web process and a worker, each with its own
empty files, temporary and artifact cache folders, run the whole flow on an S3-compatible
server (moto's `moto_server`) through the Python client; the worker's cache deleted mid-run
changes nothing. With PostgreSQL and Redis configured (make test-services) they share no
folder at all; on the embedded stack they share only the filesystem broker's queue folder.
Then the tenant is erased and the bucket holds nothing of it."""

import json
import shutil
from io import StringIO

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from maas_client import Maas

from tests.helpers import new_tenant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]


def files_in(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def stack(worker, serve, settings, s3, tmp_path):
    """(client, the web and worker folders, the bucket's keys as a callable)."""
    environment = {k: v for k, v in s3.items() if k != "bucket"}
    folders = {}
    for side in ("web", "worker"):
        folders[side] = {
            "MAAS_MEDIA_ROOT": tmp_path / side / "files",
            "MAAS_ARTIFACT_CACHE_DIR": tmp_path / side / "artifact-cache",
            "TMPDIR": tmp_path / side / "tmp",  # uploads spooled, downloads buffered
            # The filesystem broker's queue is a folder: on the embedded stack it is the one
            # thing both sides must share; on Redis each side has its own data folder.
            "MAAS_DATA_DIR": (
                django_settings.DATA_DIR
                if settings.CELERY_BROKER_URL.startswith("filesystem://")
                else tmp_path / side / "data"
            ),
        }
    for f in folders.values():
        f["TMPDIR"].mkdir(parents=True)
    as_env = {side: {k: str(v) for k, v in f.items()} for side, f in folders.items()}
    worker(**environment, **as_env["worker"])
    url = serve(MAAS_USAGE_SINK="database", **environment, **as_env["web"])
    created = new_tenant()
    client = Maas(api_key=created["api_key"], base_url=url)
    client.tenant_id = created["tenant_id"]
    s3_client = boto3.client("s3", endpoint_url=s3["AWS_S3_ENDPOINT_URL"])

    def keys() -> list[str]:
        listed = s3_client.list_objects_v2(Bucket=s3["bucket"])
        return [o["Key"] for o in listed.get("Contents", [])]

    yield client, folders, keys
    client.close()


def run_flow(client, folders, keys, tmp_path, cancer_csv, algorithm, params):
    path = tmp_path / "cancer.csv"
    path.write_bytes(cancer_csv)
    dataset = client.datasets.upload(path)
    job = client.training_jobs.create(
        dataset=dataset.id, target="diagnosis", algorithm=algorithm, params=params
    ).wait(timeout=300)
    assert job.status == "succeeded", job.error
    worker_cache = folders["worker"]["MAAS_ARTIFACT_CACHE_DIR"]
    shutil.rmtree(worker_cache, ignore_errors=True)  # the worker's cache lost mid-run

    rows = [{k: v for k, v in r.items() if k != "diagnosis"} for r in _rows(cancer_csv, 20)]
    predicted = client.models.predict(job.model, rows)  # the web loads the artifact from S3
    assert len(predicted.predictions) == 20
    assert files_in(folders["web"]["MAAS_ARTIFACT_CACHE_DIR"])  # and caches it on its disk

    batch = client.inference_jobs.create(model=job.model, dataset=dataset.id)
    batch = client.inference_jobs.wait(batch, timeout=300)
    assert batch.status == "succeeded", batch.error
    out = client.inference_jobs.download_results(batch.id, tmp_path / "results.csv")
    lines = out.read_text().splitlines()
    assert len(lines) == 570 and lines[0].startswith("row,prediction")
    # The first 20 rows as the batch job predicted them are what predict answered.
    assert [line.split(",")[1] for line in lines[1:21]] == [str(p) for p in predicted.predictions]
    assert client.models.download_onnx(job.model, 1, tmp_path / "m.onnx").stat().st_size > 100

    for side in ("web", "worker"):  # nothing written to either host's files folder
        assert files_in(folders[side]["MAAS_MEDIA_ROOT"]) == [], side
    stored = keys()
    assert all(key.startswith("tenants/") for key in stored)
    assert any(key.startswith("tenants/datasets/") for key in stored)
    assert any(key.endswith(".onnx") for key in stored)
    assert any(key.startswith("tenants/inference/") for key in stored)


def _rows(csv: bytes, n: int) -> list[dict]:
    import io

    import pandas as pd

    return pd.read_csv(io.BytesIO(csv)).head(n).to_dict(orient="records")


def test_sklearn_on_s3_with_no_shared_folder_then_erased(stack, tmp_path, cancer_csv):
    client, folders, keys = stack
    run_flow(client, folders, keys, tmp_path, cancer_csv, "logistic_regression", {})
    out = StringIO()
    call_command("erase_tenant", client.tenant_id, "--confirm", stdout=out)
    assert json.loads(out.getvalue())["removed"]["files"] >= 4
    assert [key for key in keys() if client.tenant_id in key] == []  # the bucket holds none


@pytest.mark.tensorflow
def test_keras_on_s3_with_no_shared_folder(stack, tmp_path, cancer_csv):
    client, folders, keys = stack
    params = {"hidden_units": [16], "epochs": 3, "batch_size": 64}
    run_flow(client, folders, keys, tmp_path, cancer_csv, "mlp_classifier", params)
