"""Models users can trust, measured (issue 13): explanations, image predictions, cross-validation.

(a) explain vs predict: RandomForest(100) and GradientBoosting(100) on breast-cancer data,
    100 rows per request, `POST /v1/models/{id}/explain` against `.../predict` on the same
    server (`python -m maas.web`, two processes, as the Procfile runs it), wrk -t2 -c16; rows/s each.
(b) image predict: `cnn_image_classifier` on the digits archive, batches of 32 base64 PNGs
    through the platform, against the same ONNX file called directly in 2 processes (decoding
    the same PNGs with Pillow and resizing them, then session.run: what the platform does
    without HTTP, auth, validation and metering), and against session.run alone.
(c) cross-validation: a RandomForest(100) training job on breast-cancer data without CV and
    with cv_folds 5, run by the worker code in-process; the job's CPU seconds (what is billed)
    and wall seconds, and the difference per fold.

    .venv/bin/python benchmarks/models.py --seconds 10
"""

import argparse
import base64
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from _harness import ROOT, free_port, maas_server, stop, wrk  # noqa: E402

SETUP = r"""
import json, time, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.core.files.uploadedfile import SimpleUploadedFile
from billing.models import MeterPrice, PriceBook
from billing.price_book_defaults import ensure_default_price_books
from catalog.models import ModelVersion
from catalog.services import dataset_create
from tenants.services import api_key_create, tenant_create
from training.models import TrainingJob
from training.services import training_job_create, training_job_run
from tests.helpers import digits_zip
from tests.training.conftest import breast_cancer_csv
ensure_default_price_books(PriceBook, MeterPrice)
tenant = tenant_create(name="bench", plan="enterprise", requests_per_minute=10**9)
cancer = dataset_create(tenant=tenant, upload=SimpleUploadedFile("c.csv", breast_cancer_csv()), name="c.csv", sha256="0"*64)
digits = dataset_create(tenant=tenant, upload=SimpleUploadedFile("d.zip", digits_zip()), name="d.zip", sha256="0"*64)
out = {"models": {}, "cv": {}}
def train(name, dataset, target, algorithm, params, cv_folds=None):
    job = training_job_create(tenant=tenant, dataset=dataset.pk, target=target, algorithm=algorithm, params=params, model=name, cv_folds=cv_folds)
    started = time.perf_counter()
    training_job_run(job_id=job.pk)
    wall = time.perf_counter() - started
    job = TrainingJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error_message
    return job, wall
rf, _ = train("rf", cancer, "diagnosis", "random_forest_classifier", {"n_estimators": 100})
gb, _ = train("gb", cancer, "diagnosis", "gradient_boosting_classifier", {"n_estimators": 100})
train("rf-warm", cancer, "diagnosis", "random_forest_classifier", {"n_estimators": 100})
for folds in (None, 5):
    job, wall = train(f"rf-cv{folds}", cancer, "diagnosis", "random_forest_classifier", {"n_estimators": 100}, folds)
    out["cv"][str(folds)] = {"cpu": float(job.compute_seconds), "wall": wall}
cnn, _ = train("cnn", digits, "label", "cnn_image_classifier", {"image_size": 16, "epochs": 8, "filters": 16})
version = ModelVersion.objects.get(model_id=cnn.model_id, version=1)
assert version.onnx_path, version.onnx_parity
out["models"] = {"rf": rf.model_id, "gb": gb.model_id, "cnn": cnn.model_id}
out["onnx"] = version.onnx_path
out["cnn_input"] = version.signature["inputs"][0]
_, out["key"] = api_key_create(tenant=tenant, scopes=["predict"])
print(json.dumps(out))
"""


def setup(env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def cancer_rows(n: int) -> list[dict]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = [name.replace(" ", "_") for name in data.feature_names]
    return [dict(zip(names, map(float, row), strict=True)) for row in data.data[:n]]


def digit_pngs(n: int) -> list[bytes]:
    from tests.helpers import digits_zip

    with zipfile.ZipFile(io.BytesIO(digits_zip(limit=n))) as archive:
        return [archive.read(name) for name in sorted(archive.namelist())]


def _direct_loop(onnx_path: str, spec: dict, pngs: list[bytes], decode: bool, seconds: float, out):
    import numpy as np
    import onnxruntime as ort
    from PIL import Image

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    size, channels = spec["size"], spec["channels"]

    def arrays():
        batch = []
        for data in pngs:
            image = Image.open(io.BytesIO(base64.b64decode(base64.b64encode(data))))
            image = image.convert("L" if channels == 1 else "RGB").resize((size, size))
            batch.append(np.asarray(image, np.float32).reshape(size, size, channels) / 255)
        return np.stack(batch)

    ready = arrays()
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        session.run(None, {spec["onnx_input"]: arrays() if decode else ready})
        done += len(pngs)
    out.put(done / seconds)


def direct_rows_per_second(onnx_path, spec, pngs, decode: bool, seconds: float) -> float:
    """Two processes (as gunicorn -w 2), each calling the session in a loop."""
    queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=_direct_loop, args=(onnx_path, spec, pngs, decode, seconds, queue)
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk (apt-get install wrk)")
    data_dir = tempfile.mkdtemp(prefix="maas-models-")
    env = {
        **os.environ,
        "PYTHONPATH": ROOT,
        "DJANGO_SETTINGS_MODULE": "maas.settings",
        "MAAS_DATA_DIR": data_dir,
        "MAAS_ACCESS_LOG": "false",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
    }
    ready = setup(env)
    port = free_port()
    server = maas_server(env, port)
    headers = {"Authorization": f"Bearer {ready['key']}"}
    base = f"http://127.0.0.1:{port}/v1/models"
    results = {}
    try:
        hundred = {"inputs": cancer_rows(100)}
        for name in ("rf", "gb"):
            model = ready["models"][name]
            for verb in ("predict", "explain"):
                results[(name, verb)] = wrk(
                    f"{base}/{model}/{verb}", hundred, headers, args.seconds
                )
        pngs = digit_pngs(32)
        images = {"inputs": [{"image": base64.b64encode(p).decode()} for p in pngs]}
        results["images"] = wrk(
            f"{base}/{ready['models']['cnn']}/predict", images, headers, args.seconds
        )
    finally:
        stop(server)
    onnx_path = os.path.join(data_dir, "files", ready["onnx"])  # MEDIA_ROOT's default
    spec = ready["cnn_input"]
    decoded = direct_rows_per_second(onnx_path, spec, pngs, True, args.seconds)
    bare = direct_rows_per_second(onnx_path, spec, pngs, False, args.seconds)

    print(
        f"wrk -t2 -c16, {args.seconds} s after a 3 s warm-up, maas.web with two processes, SQLite\n"
    )
    print("| case | req/s | rows/s | p50 ms | p99 ms | explain / predict |")
    print("|---|---|---|---|---|---|")
    for name, label in (("rf", "RandomForest(100)"), ("gb", "GradientBoosting(100)")):
        p, e = results[(name, "predict")], results[(name, "explain")]
        for verb, r in (("predict", p), ("explain", e)):
            ratio = f"{e['rps'] / p['rps']:.2f}" if verb == "explain" else ""
            print(
                f"| {label} {verb}, 100 rows | {r['rps']:,.0f} | {r['rps'] * 100:,.0f} | "
                f"{r['p50']:.2f} | {r['p99']:.2f} | {ratio} |"
            )
    i = results["images"]
    print(
        f"\n| image predict, batches of 32 digits (16x16 CNN) | rows/s | maas / this |\n"
        f"|---|---|---|\n"
        f"| maas predict (base64 PNG in JSON, HTTP, auth, metering) | {i['rps'] * 32:,.0f} | |\n"
        f"| ONNX Runtime directly, decoding and resizing the same PNGs, 2 processes | {decoded:,.0f} | "
        f"{i['rps'] * 32 / decoded:.0%} |\n"
        f"| ONNX Runtime directly, session.run on ready arrays, 2 processes | {bare:,.0f} | "
        f"{i['rps'] * 32 / bare:.0%} |"
    )
    none, five = ready["cv"]["None"], ready["cv"]["5"]
    print(
        f"\n| RandomForest(100) training job, breast cancer | CPU s (billed) | wall s |\n|---|---|---|\n"
        f"| no cross-validation | {none['cpu']:.2f} | {none['wall']:.2f} |\n"
        f"| cv_folds 5 | {five['cpu']:.2f} | {five['wall']:.2f} |\n"
        f"| per fold | {(five['cpu'] - none['cpu']) / 5:.2f} | {(five['wall'] - none['wall']) / 5:.2f} |"
    )


if __name__ == "__main__":
    main()
