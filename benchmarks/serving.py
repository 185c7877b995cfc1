"""Serving: maas's predict endpoint on the stacks users start, against a seed-style server.

The seed-style server is a Flask route `model.predict(request.get_json()['features'])` over a
joblib-pickled model under gunicorn -w 2 (its sync worker). maas is started as users start it:

- `make run` as it is (the embedded default: SQLite, the filesystem broker, web + worker + beat
  from the Procfile, access logs on, written to a file here as a terminal would get them);
- with `--postgres URL --redis URL`, `make run` again with DATABASE_URL and REDIS_URL set: the
  same Procfile commands (the web server's is the compose file's too) on PostgreSQL and Redis,
  with the worker draining the usage stream as it would in production.

For each stack and each case (LogisticRegression 1 row, RandomForest(100) 1 row, RandomForest
100 rows, breast-cancer data), the seed server and maas are loaded in turn, `--rounds` times
each (wrk -t2 -c16, `--seconds` after a 2 s warm-up); the table gives each side's median, the
ratio of the medians, and every round's p99. Then RandomForest 1 row again, alternating rounds
without and with 16 clients holding `Prefer: wait=30` on a running training job.

    .venv/bin/python benchmarks/serving.py --postgres postgres://maas:maas@127.0.0.1:5432/maas_bench \
        --redis redis://127.0.0.1:6379/5

`--batch` adds batch inference rows/s against onnxruntime called directly on the same rows.
`--control` also loads a second seed-style server, identical to the first (same code, same
gunicorn command, processes of its own), in each round after maas: how far two identical
servers' req/s and per-round p99s differ on this host, the scale against which a "p99 no worse
in every round" verdict is read.
`--cases lr,rf` measures only those (of lr, rf, rf100, polls); `--maas-env NAME=VALUE` sets a
setting for maas's processes (the stack's environment is otherwise clean of MAAS_ variables).
Needs wrk (apt-get install wrk).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from statistics import median

from _harness import (
    CASES,
    ROOT,
    backend_envs,
    baseline_models,
    baseline_server,
    database_recreate,
    free_port,
    rows,
    setup_maas,
    stop,
    wait_port,
    wrk,
)

# The targets: maas / seed, per case, per stack (RandomForest 100 rows in rows/s).
TARGETS = {
    "make run (SQLite)": {"lr": 1.2, "rf": 10.0, "rf100": 5.0},
    "make run (PostgreSQL + Redis)": {"lr": 1.0, "rf": 8.0, "rf100": 4.0},
}
LONG_POLL_TARGET = 0.90
LONG_POLLERS = 16

_SETUP = r"""
import json, sys, time, django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from catalog.services import dataset_create
from tenants.services import api_key_create, tenant_create
from training.models import TrainingJob
from training.services import training_job_create
from tests.training.conftest import breast_cancer_csv
tenant = tenant_create(name="bench", plan="enterprise", requests_per_minute=10**9)
ds = dataset_create(tenant=tenant, upload=SimpleUploadedFile("c.csv", breast_cancer_csv()), name="c.csv", sha256="0"*64)
jobs = {}
for name, algorithm, params in (("lr", "logistic_regression", {}), ("rf", "random_forest_classifier", {"n_estimators": 100})):
    # Queued for the stack's own worker, as an API call would.
    jobs[name] = training_job_create(tenant=tenant, dataset=ds.pk, target="diagnosis", algorithm=algorithm, params=params, model=name)
models = {}
deadline = time.monotonic() + 600
for name, job in jobs.items():
    while True:
        job.refresh_from_db()
        if job.status == "succeeded":
            break
        assert job.status in ("queued", "running") and time.monotonic() < deadline, (job.status, job.error_message)
        time.sleep(0.5)
    models[name] = job.model_id
_, key = api_key_create(tenant=tenant, scopes=["predict"])
_, reader = api_key_create(tenant=tenant, scopes=["read"])
print(json.dumps({"models": models, "key": key, "reader": reader, "dataset": ds.pk}))
"""

_LONG_POLLS = r"""
import http.client, sys, threading, time, django
django.setup()
from django.utils import timezone
from catalog.models import Dataset
from training.models import TrainingJob
port, key, dataset, clients = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
# A job that runs for as long as this driver does: it is the job's "worker", keeping its
# heartbeat fresh (so beat's reaper leaves it alone), and never finishes it.
ds = Dataset.objects.get(pk=dataset)
now = timezone.now()
job = TrainingJob.objects.create(
    tenant=ds.tenant, dataset=ds, dataset_ref=ds.pk, algorithm="random_forest_classifier",
    target="diagnosis", model_name="long-poll", status="running", queue="training",
    worker="benchmark:0", attempts=1, started_at=now, heartbeat_at=now,
).pk
started = threading.Semaphore(0)

def hold():
    first = True
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=90)
        connection.request("GET", f"/v1/training-jobs/{job}", headers={"Authorization": f"Bearer {key}", "Prefer": "wait=30"})
        if first:
            started.release()
            first = False
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 200 and b'"running"' in body, (answer.status, body[:300])
        connection.close()

for _ in range(clients):
    threading.Thread(target=hold, daemon=True).start()
for _ in range(clients):
    started.acquire()
time.sleep(1)  # the requests are in: the server holds them
print("holding", flush=True)
while True:
    TrainingJob.objects.filter(pk=job).update(heartbeat_at=timezone.now())
    time.sleep(5)
"""


def run_stack(env: dict, port: int, log_path: str) -> subprocess.Popen:
    """`make run` with `env`, as a user starts it; returns once the API answers /readyz."""
    import urllib.request

    log = open(log_path, "wb")  # noqa: SIM115 (open while the stack runs)
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_port(port, timeout=600, process=process)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5):
                return process
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def django_script(code: str, env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def long_polls_start(env: dict, port: int, setup: dict) -> subprocess.Popen:
    args = [str(port), setup["reader"], setup["dataset"], str(LONG_POLLERS)]
    process = subprocess.Popen(
        [sys.executable, "-c", _LONG_POLLS, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout.readline().strip() == "holding", "the long polls did not start"
    return process


def long_polls_stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def measure_stack(args, stack: str, env: dict, baselines: dict, controls: dict) -> dict:
    port = free_port()
    data_dir = env["MAAS_DATA_DIR"]
    process = run_stack(env, port, os.path.join(data_dir, "make-run.log"))
    results: dict = {}
    try:
        setup = django_script(_SETUP, env)
        for _name, model_key, n in CASES:
            case = model_key if n == 1 else f"{model_key}{n}"
            if case not in args.cases:
                continue
            lists, dicts = rows(n)
            maas_url = f"http://127.0.0.1:{port}/v1/models/{setup['models'][model_key]}/predict"
            auth = {"Authorization": f"Bearer {setup['key']}"}
            for _ in range(args.rounds):
                seed = wrk(baselines[model_key], {"features": lists}, {}, args.seconds, 2)
                results.setdefault((case, "seed"), []).append(seed)
                maas = wrk(maas_url, {"inputs": dicts}, auth, args.seconds, 2)
                results.setdefault((case, "maas"), []).append(maas)
                if controls:
                    control = wrk(controls[model_key], {"features": lists}, {}, args.seconds, 2)
                    results.setdefault((case, "control"), []).append(control)
        if "polls" not in args.cases:
            return results
        _, one = rows(1)
        rf_url = f"http://127.0.0.1:{port}/v1/models/{setup['models']['rf']}/predict"
        auth = {"Authorization": f"Bearer {setup['key']}"}
        for _ in range(args.rounds):
            results.setdefault(("rf", "alone"), []).append(
                wrk(rf_url, {"inputs": one}, auth, args.seconds, 2)
            )
            pollers = long_polls_start(env, port, setup)
            try:
                results.setdefault(("rf", "long polls"), []).append(
                    wrk(rf_url, {"inputs": one}, auth, args.seconds, 2)
                )
            finally:
                long_polls_stop(pollers)
    finally:
        stop(process)
    return results


def p99s(rounds: list[dict]) -> str:
    return " / ".join(f"{r['p99']:.1f}" for r in rounds)


def p99_no_worse(seed: list[dict], other: list[dict]) -> bool:
    """The issue's p99 verdict: `other`'s p99 no higher than the seed's in every round."""
    return all(o["p99"] <= s["p99"] for s, o in zip(seed, other, strict=True))


def rates(rounds: list[dict]) -> str:
    return ", ".join(f"{r['rps']:,.0f}" for r in rounds)


def print_stack(stack: str, results: dict, args) -> None:
    print(f"\n### {stack}\n")
    print(
        "| case | seed req/s | maas req/s | maas / seed | target | seed p99 ms per round | "
        "maas p99 ms per round | p99 no worse |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, model_key, n in CASES:
        case = model_key if n == 1 else f"{model_key}{n}"
        if case not in args.cases:
            continue
        seed, maas = results[(case, "seed")], results[(case, "maas")]
        seed_rps, maas_rps = median(r["rps"] for r in seed), median(r["rps"] for r in maas)
        unit = "" if n == 1 else f" ({n} rows each)"
        ratio = maas_rps / seed_rps
        target = TARGETS[stack][case]
        p99_ok = p99_no_worse(seed, maas)
        errors = sum(r["errors"] for r in seed + maas)
        print(
            f"| {name}{unit} | {seed_rps:,.0f} | {maas_rps:,.0f} | {ratio:.2f}x "
            f"| >= {target}x {'met' if ratio >= target else 'MISSED'} "
            f"| {p99s(seed)} | {p99s(maas)} "
            f"| {'yes' if p99_ok else 'NO'} |" + (f" ({errors} errors)" if errors else "")
        )
    if args.control:
        print_controls(stack, results, args)
    if "polls" not in args.cases:
        return
    alone, polled = results[("rf", "alone")], results[("rf", "long polls")]
    alone_rps, polled_rps = median(r["rps"] for r in alone), median(r["rps"] for r in polled)
    ratio = polled_rps / alone_rps
    print(
        f"\nRandomForest(100) 1 row with {LONG_POLLERS} clients holding `Prefer: wait=30` on a "
        f"running job: {polled_rps:,.0f} req/s against {alone_rps:,.0f} without them "
        f"({100 * ratio:.0f} %, target >= {100 * LONG_POLL_TARGET:.0f} % "
        f"{'met' if ratio >= LONG_POLL_TARGET else 'MISSED'}); rounds without: "
        f"{rates(alone)}, with: {rates(polled)}; p99 with them {p99s(polled)} ms"
    )


def print_controls(stack: str, results: dict, args) -> None:
    print(
        "\nThe control, a second seed-style server identical to the first, in the same rounds:\n"
        "\n| case | seed req/s | control req/s | control / seed | seed p99 ms per round | "
        "control p99 ms per round | p99 no worse |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, model_key, n in CASES:
        case = model_key if n == 1 else f"{model_key}{n}"
        if case not in args.cases:
            continue
        seed, control = results[(case, "seed")], results[(case, "control")]
        seed_rps, control_rps = median(r["rps"] for r in seed), median(r["rps"] for r in control)
        print(
            f"| {name} | {seed_rps:,.0f} | {control_rps:,.0f} | {control_rps / seed_rps:.2f}x "
            f"| {p99s(seed)} | {p99s(control)} "
            f"| {'yes' if p99_no_worse(seed, control) else 'NO'} |"
        )


def batch_vs_onnxruntime(env: dict, setup: dict) -> dict:
    """A batch job's rows/s against onnxruntime run directly over the same rows."""
    code = r"""
import json, time, io, sys, django
django.setup()
import numpy as np, pandas as pd
from django.core.files.uploadedfile import SimpleUploadedFile
from catalog.models import ModelVersion
from catalog.services import dataset_create
from catalog.artifacts import artifact_read
from inference.batch import inference_job_run
from inference.services import inference_job_create
from tenants.models import Tenant
from tests.training.conftest import breast_cancer_csv
setup = json.loads(sys.argv[1])
tenant = Tenant.objects.get(pk=setup["tenant"])
frame = pd.read_csv(io.BytesIO(breast_cancer_csv()))
big = pd.concat([frame] * 176, ignore_index=True)  # ~100k rows
buffer = io.StringIO(); big.to_csv(buffer, index=False)
ds = dataset_create(tenant=tenant, upload=SimpleUploadedFile("big.csv", buffer.getvalue().encode()), name="big.csv", sha256="0"*64)
rates = []
for _ in range(2):  # the first job also loads the model into the worker
    job = inference_job_create(tenant=tenant, data={"model": setup["models"]["rf"], "dataset": ds.pk})
    inference_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    rates.append(job.completed / (job.finished_at - job.started_at).total_seconds())
cold, platform = rates
import onnxruntime as ort
version = ModelVersion.objects.get(model_id=setup["models"]["rf"], version=1)
options = ort.SessionOptions(); options.intra_op_num_threads = 1
session = ort.InferenceSession(artifact_read(version.onnx_path, version.onnx_sha256), options)
features = big.drop(columns=["diagnosis"]).to_numpy(dtype=np.float32)
feed_all = {f"in_{i}": features[:, i:i+1] for i in range(features.shape[1])}
start = time.perf_counter()
for lo in range(0, len(features), 10000):
    session.run(None, {k: v[lo:lo+10000] for k, v in feed_all.items()})
direct = len(features) / (time.perf_counter() - start)
print(json.dumps({"rows": job.completed, "platform": platform, "cold": cold, "direct": direct}))
"""
    return django_script(code, env, json.dumps(setup))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="a database URL; the database is created if missing")
    parser.add_argument("--redis", help="a Redis URL (use a database number of its own: flushed)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", action="store_true", help="also batch inference rows/s")
    parser.add_argument(
        "--control",
        action="store_true",
        help="also a second, identical seed-style server in each round (the host's noise)",
    )
    parser.add_argument(
        "--cases",
        type=lambda text: set(text.split(",")),
        default={"lr", "rf", "rf100", "polls"},
        help="which of lr, rf, rf100, polls (default: all)",
    )
    parser.add_argument(
        "--maas-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for maas's processes (repeatable), e.g. MAAS_USAGE_PROCESS_SECONDS=1",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk (apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="maas-serving-")
    paths = baseline_models(tmp)
    ports = {name: free_port() for name in paths}
    seeds = {name: baseline_server(path, ports[name]) for name, path in paths.items()}
    baselines = {name: f"http://127.0.0.1:{port}/predict" for name, port in ports.items()}
    controls = {}
    if args.control:
        for name, path in paths.items():
            port = free_port()
            seeds[f"{name} control"] = baseline_server(path, port)
            controls[name] = f"http://127.0.0.1:{port}/predict"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("MAAS_", "DJANGO_"))}
    base_env |= {"PYTHONPATH": ROOT, "DJANGO_SETTINGS_MODULE": "maas.settings"}
    stacks = []
    try:
        for backend, extra in backend_envs(args):
            stack = f"make run ({backend})"
            data_dir = tempfile.mkdtemp(prefix="maas-serving-data-")
            env = {**base_env, **extra, "MAAS_DATA_DIR": data_dir}
            env |= dict(pair.split("=", 1) for pair in args.maas_env)
            if extra["REDIS_URL"]:
                import redis

                redis.Redis.from_url(extra["REDIS_URL"]).flushdb()
            if extra["DATABASE_URL"]:
                database_recreate(extra["DATABASE_URL"])
            stacks.append((stack, measure_stack(args, stack, env, baselines, controls)))
    finally:
        for process in seeds.values():
            stop(process)
    print(
        f"wrk -t2 -c16, {args.seconds} s per round after a 2 s warm-up, {args.rounds} rounds "
        "per side alternating (seed, maas, seed, ...), medians; the seed-style server is Flask + "
        "a pickled model under gunicorn -w 2; maas is `make run` as it is."
        + (" Each round also loads the control after maas." if args.control else "")
    )
    for stack, results in stacks:
        print_stack(stack, results, args)
    if args.batch:
        data_dir = tempfile.mkdtemp(prefix="maas-serving-batch-")
        env = {**base_env, **backend_envs(args)[0][1], "MAAS_DATA_DIR": data_dir}
        batch = batch_vs_onnxruntime(env, setup_maas(env))
        print(
            f"\nbatch inference, RandomForest(100), {batch['rows']:,} rows: maas job "
            f"{batch['platform']:,.0f} rows/s (the worker's first job, loading the model: "
            f"{batch['cold']:,.0f}), onnxruntime directly {batch['direct']:,.0f} rows/s "
            f"({100 * batch['platform'] / batch['direct']:.0f} %)"
        )


if __name__ == "__main__":
    main()
