"""Object storage: what serving from a bucket costs against the local filesystem, side by side.

For each backend, the filesystem (MAAS_MEDIA_ROOT) and S3 (moto's `moto_server` on 127.0.0.1,
the S3-compatible server the tests use): a RandomForest(100) trained on breast-cancer data,
then maas's web server as the Procfile starts it (two processes):
- the first predict of a fresh process whose artifact cache is empty (cold: for S3 the
  artifact comes from the bucket), `--rounds` fresh processes, and the median of 200 predicts
  after it (warm);
- uploading an 11 MB CSV (51,210 rows) (POST /v1/datasets, streamed from disk) and downloading the CSV
  results of a batch job over it (GET /v1/inference-jobs/{id}/results), in MB/s.
moto is an in-memory Python server, so the S3 figures are moto's, not a real bucket's; they
show what the storage path adds, not what AWS would.

    .venv/bin/python benchmarks/storage.py [--rounds 5]
"""

import argparse
import io
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests.*
from _harness import ROOT, free_port, maas_server, rows, setup_maas, stop

RUN_BATCH = r"""
import json, sys, django
django.setup()
from inference.batch import inference_job_run
from inference.models import InferenceJob
job_id = sys.argv[1]
inference_job_run(job_id=job_id)
job = InferenceJob.objects.get(pk=job_id)
assert job.status == "succeeded", job.error_message
print(json.dumps({"rows": job.completed}))
"""


def moto(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "moto_server"),
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto_server did not start")


def big_csv(path: str) -> int:
    import django
    import pandas as pd

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
    django.setup()  # the tests' table helper sits beside Django code
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    from tests.training.conftest import breast_cancer_csv

    frame = pd.read_csv(io.BytesIO(breast_cancer_csv()))
    pd.concat([frame] * 90, ignore_index=True).to_csv(path, index=False)  # 51,210 rows
    return os.path.getsize(path)


def measure(env: dict, rounds: int, csv_path: str) -> dict:
    setup = setup_maas(env)
    model = setup["models"]["rf"]
    _, dicts = rows(1)
    cold, warm = [], []
    for _ in range(rounds):
        shutil.rmtree(env["MAAS_ARTIFACT_CACHE_DIR"], ignore_errors=True)
        port = free_port()
        process = maas_server(env, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                headers = {"Authorization": f"Bearer {setup['key']}"}
                http.get("/healthz")  # the process is up and Django loaded
                started = time.perf_counter()
                http.post(
                    f"/v1/models/{model}/predict", json={"inputs": dicts}, headers=headers
                ).raise_for_status()
                cold.append(time.perf_counter() - started)
                for _ in range(200):
                    started = time.perf_counter()
                    http.post(
                        f"/v1/models/{model}/predict", json={"inputs": dicts}, headers=headers
                    )
                    warm.append(time.perf_counter() - started)
        finally:
            stop(process)
    port = free_port()
    process = maas_server(env, port)
    uploads, downloads = [], []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:
            key = api_key(env, setup["tenant"])
            headers = {"Authorization": f"Bearer {key}"}
            size = os.path.getsize(csv_path)
            for _ in range(3):
                with open(csv_path, "rb") as f:
                    started = time.perf_counter()
                    answer = http.post(
                        "/v1/datasets", files={"file": ("big.csv", f)}, headers=headers
                    )
                    uploads.append(size / (time.perf_counter() - started) / 1e6)
                answer.raise_for_status()
            dataset = answer.json()["id"]
            job = http.post(
                "/v1/inference-jobs",
                json={"model": model, "dataset": dataset},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            ).json()["id"]
            subprocess.run(
                [sys.executable, "-c", RUN_BATCH, job],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            for _ in range(3):
                got = 0
                started = time.perf_counter()
                with http.stream(
                    "GET", f"/v1/inference-jobs/{job}/results?format=csv", headers=headers
                ) as stream:
                    stream.raise_for_status()
                    for chunk in stream.iter_raw():
                        got += len(chunk)
                downloads.append(got / (time.perf_counter() - started) / 1e6)
    finally:
        stop(process)
    return {
        "cold_ms": statistics.median(cold) * 1000,
        "warm_ms": statistics.median(warm) * 1000,
        "upload_mb_s": statistics.median(uploads),
        "download_mb_s": statistics.median(downloads),
        "result_mb": got / 1e6,
    }


def api_key(env: dict, tenant: str) -> str:
    """A key with every scope (setup_maas's only predicts)."""
    code = (
        "import django,sys; django.setup(); from tenants.services import api_key_create; "
        "from tenants.models import Tenant; from maas.scopes import ALL_SCOPES; "
        "print(api_key_create(tenant=Tenant.objects.get(pk=sys.argv[1]), scopes=list(ALL_SCOPES))[1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, tenant],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--rounds", type=int, default=5, help="fresh processes for the cold predict"
    )
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="maas-storage-bench-")
    csv_path = os.path.join(tmp, "big.csv")
    csv_mb = big_csv(csv_path) / 1e6
    base_env = {
        **os.environ,
        "PYTHONPATH": ROOT,
        "DJANGO_SETTINGS_MODULE": "maas.settings",
        "MAAS_ACCESS_LOG": "false",
    }
    moto_port = free_port()
    server = moto(moto_port)
    results = {}
    try:
        import boto3

        endpoint = f"http://127.0.0.1:{moto_port}"
        credentials = {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        os.environ.update(credentials)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="maas-bench")
        for name, extra in (
            ("filesystem", {}),
            (
                "S3 (moto_server)",
                {
                    "MAAS_STORAGE_URL": "s3://maas-bench/files",
                    "AWS_S3_ENDPOINT_URL": endpoint,
                    **credentials,
                },
            ),
        ):
            data_dir = tempfile.mkdtemp(prefix="maas-storage-data-")
            env = {
                **base_env,
                **extra,
                "MAAS_DATA_DIR": data_dir,
                "MAAS_ARTIFACT_CACHE_DIR": os.path.join(data_dir, "artifact-cache"),
            }
            results[name] = measure(env, args.rounds, csv_path)
    finally:
        os.killpg(server.pid, 15)
        server.wait()
    print(
        f"RandomForest(100), 1 row; maas.web, two processes; cold = first predict of a fresh process with an empty "
        f"artifact cache (median of {args.rounds}), warm = median of 200 after it; upload {csv_mb:.1f} MB CSV, "
        "download its batch results as CSV (medians of 3)\n"
    )
    print("| storage | cold predict ms | warm predict ms | upload MB/s | results download MB/s |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['cold_ms']:.1f} | {r['warm_ms']:.2f} | {r['upload_mb_s']:.1f} | {r['download_mb_s']:.1f} ({r['result_mb']:.1f} MB) |"
        )


if __name__ == "__main__":
    main()
