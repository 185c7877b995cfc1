"""Serving: maas's predict endpoint against the usual Flask + pickle server, side by side.

(a) the seed-style baseline: a Flask route `model.predict(request.get_json()['features'])` over a
joblib-pickled model, under gunicorn -w 2 (its sync worker); (b) maas's
`POST /v1/models/{id}/predict` under gunicorn -w 2 with a real API key, rate limiting, spend
check, validation and metering on, on maas's own worker (maas.server.KeepAliveWorker, which keeps
connections open, as the Procfile runs it) and again on gunicorn's sync worker, the baseline's
server, for a like-for-like comparison of the application's cost. All
loaded with wrk -t2 -c16 for --seconds after a warm-up, for LogisticRegression 1 row,
RandomForest(100) 1 row and RandomForest 100 rows, on breast-cancer data; on SQLite and (with
--postgres/--redis) on PostgreSQL + Redis. Then batch inference rows/s against onnxruntime
called directly on the same rows.

    .venv/bin/python benchmarks/serving.py --postgres postgres://maas:maas@127.0.0.1:5432/maas_bench \
        --redis redis://127.0.0.1:6379/0

`--against REF` compares this working tree with the commit REF instead (a change's before and
after, same run): both are served at once, each from its own checkout (a git worktree), data
dir, database and Redis keys, and loaded in turn, `--rounds` times per case; the table gives each
side's median and the ratio of the medians, beside the Flask baseline.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
# As the Procfile runs maas: connections kept open between requests (maas/server.py).
MAAS_WORKER = ["--worker-class", "maas.server.KeepAliveWorker"]
CASES = [
    ("LogisticRegression, 1 row", "lr", 1),
    ("RandomForest(100), 1 row", "rf", 1),
    ("RandomForest(100), 100 rows", "rf", 100),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def wrk(url: str, body: dict, headers: dict, seconds: int) -> dict:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
    script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n')
    for name, value in {"Content-Type": "application/json", **headers}.items():
        script.write(f'wrk.headers["{name}"] = "{value}"\n')
    script.close()
    subprocess.run(
        ["wrk", "-t2", "-c16", "-d3s", "-s", script.name, url], capture_output=True, check=True
    )
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50"),
        "p99": ms("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def setup_maas(env: dict, root: str = ROOT) -> dict:
    """Migrates, trains the two models through the platform, returns ids, key and rows."""
    code = r"""
import json, os, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.core.files.uploadedfile import SimpleUploadedFile
from billing.models import MeterPrice, PriceBook
from billing.price_book_defaults import ensure_default_price_books
from catalog.services import dataset_create
from tenants.services import api_key_create, tenant_create
from training.services import training_job_create, training_job_run
from tests.training.conftest import breast_cancer_csv
ensure_default_price_books(PriceBook, MeterPrice)
tenant = tenant_create(name="bench", plan="enterprise", requests_per_minute=10**9)
csv = breast_cancer_csv()
ds = dataset_create(tenant=tenant, upload=SimpleUploadedFile("c.csv", csv), name="c.csv", sha256="0"*64)
models = {}
for name, algorithm, params in (("lr", "logistic_regression", {}), ("rf", "random_forest_classifier", {"n_estimators": 100})):
    fields = {"dataset": ds.pk, "target": "diagnosis", "algorithm": algorithm, "params": params, "model": name}
    try:
        job = training_job_create(tenant=tenant, **fields)
    except TypeError:  # a tree from before the serializers took over validation (--against)
        job = training_job_create(tenant=tenant, data=fields)
    training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    models[name] = job.model_id
_, key = api_key_create(tenant=tenant, scopes=["predict"])
print(json.dumps({"models": models, "key": key, "tenant": tenant.pk, "dataset": ds.pk}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=False
    )
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_models(tmp: str) -> dict:
    import joblib
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True)
    paths = {}
    for name, model in (
        ("lr", LogisticRegression(max_iter=5000)),
        ("rf", RandomForestClassifier(100, random_state=0)),
    ):
        paths[name] = os.path.join(tmp, f"{name}.joblib")
        joblib.dump(model.fit(X, y), paths[name])
    return paths


def serve(cmd: list[str], env: dict, port: int, cwd: str = ROOT) -> subprocess.Popen:
    # gunicorn puts its working directory first on sys.path: it must be the tree being served.
    process = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_port(port)
    return process


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def rows(n: int) -> tuple[list, list]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = [n.replace(" ", "_") for n in data.feature_names]
    lists = [[float(v) for v in row] for row in data.data[:n]]
    return lists, [dict(zip(names, r, strict=True)) for r in lists]


def batch_vs_onnxruntime(env: dict, setup: dict) -> dict:
    code = r"""
import json, time, io, django
django.setup()
import numpy as np, pandas as pd
from django.core.files.uploadedfile import SimpleUploadedFile
from catalog.models import ModelVersion
from catalog.services import dataset_create
from catalog.artifacts import artifact_read
from inference.batch import inference_job_run
from inference.models import InferenceJob
from inference.services import inference_job_create
from tenants.models import Tenant
from tests.training.conftest import breast_cancer_csv
import sys
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
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(setup)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_results(paths: dict, base_env: dict, gunicorn: str, seconds: int) -> dict:
    """The Flask + pickle server's figures per case, under gunicorn -w 2 (sync worker)."""
    results = {}
    port = free_port()
    for name, model_key, n in CASES:
        env = {**base_env, "MODEL_PATH": paths[model_key]}
        cmd = [
            gunicorn,
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            HERE,
            "_flask_baseline:app",
        ]
        process = serve(cmd, env, port)
        try:
            lists, _ = rows(n)
            results[("baseline", name)] = wrk(
                f"http://127.0.0.1:{port}/predict", {"features": lists}, {}, seconds
            )
        finally:
            stop(process)
    return results


def backend_envs(args, postgres: str | None = None) -> list[tuple[str, dict]]:
    backends = [("SQLite", {"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""})]
    postgres = postgres or args.postgres
    if postgres:
        redis = args.redis or ""
        backends.append(
            (
                "PostgreSQL + Redis",
                {"DATABASE_URL": postgres, "REDIS_URL": redis, "CELERY_BROKER_URL": redis},
            )
        )
    return backends


def maas_server(gunicorn: str, env: dict, port: int, worker: list[str], cwd: str = ROOT):
    cmd = [gunicorn, "-w", "2", *worker, "-b", f"127.0.0.1:{port}", "--chdir", cwd, "maas.wsgi"]
    return serve(cmd, env, port, cwd)


def predict_load(port: int, setup: dict, model_key: str, n: int, seconds: int) -> dict:
    _, dicts = rows(n)
    url = f"http://127.0.0.1:{port}/v1/models/{setup['models'][model_key]}/predict"
    headers = {"Authorization": f"Bearer {setup['key']}"}
    return wrk(url, {"inputs": dicts}, headers, seconds)


def print_header(seconds: int) -> None:
    print(
        f"wrk -t2 -c16, {seconds} s after a 3 s warm-up; gunicorn -w 2 for both: the baseline "
        "on gunicorn's sync worker, maas on its own (maas.server.KeepAliveWorker, as the Procfile "
        "runs it)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres")
    parser.add_argument("--redis")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--against", help="a commit to compare this working tree with")
    parser.add_argument("--rounds", type=int, default=3, help="with --against: loads per side")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk (apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="maas-serving-")
    paths = baseline_models(tmp)
    base_env = {**os.environ, "PYTHONPATH": ROOT, "DJANGO_SETTINGS_MODULE": "maas.settings"}
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    results = baseline_results(paths, base_env, gunicorn, args.seconds)
    if args.against:
        compare(args, results, base_env, gunicorn)
        return

    batch = None
    servers = []
    for backend, extra in backend_envs(args):
        data_dir = tempfile.mkdtemp(prefix="maas-serving-data-")
        env = {**base_env, **extra, "MAAS_DATA_DIR": data_dir, "MAAS_ACCESS_LOG": "false"}
        setup = setup_maas(env)
        for server, worker in ((backend, MAAS_WORKER), (f"{backend}, sync worker", [])):
            servers.append(server)
            port = free_port()
            process = maas_server(gunicorn, env, port, worker)
            try:
                for name, model_key, n in CASES:
                    results[(server, name)] = predict_load(port, setup, model_key, n, args.seconds)
            finally:
                stop(process)
        if batch is None:
            batch = batch_vs_onnxruntime(env, setup)

    print_header(args.seconds)
    print("and, for a like-for-like comparison, on the sync worker too\n")
    print(
        f"| {'case':<28} | {'server':<37} | {'req/s':>8} | {'rows/s':>9} | {'p50 ms':>7} | {'p99 ms':>7} | {'vs baseline':>11} |"
    )
    print(f"|{'-' * 30}|{'-' * 39}|{'-' * 10}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 13}|")
    for name, _, n in CASES:
        base = results[("baseline", name)]
        for server in ["baseline", *servers]:
            r = results[(server, name)]
            label = "Flask + pickle (baseline)" if server == "baseline" else f"maas, {server}"
            ratio = "" if server == "baseline" else f"{r['rps'] / base['rps']:.2f}x"
            errors = f" ({r['errors']} non-2xx)" if r["errors"] else ""
            print(
                f"| {name:<28} | {label:<37} | {r['rps']:>8,.0f} | {r['rps'] * n:>9,.0f} | {r['p50']:>7.2f} | {r['p99']:>7.2f} | {ratio:>11} |{errors}"
            )
    if batch:
        print(
            f"\nbatch inference, RandomForest(100), {batch['rows']:,} rows: maas job {batch['platform']:,.0f} rows/s "
            f"(the worker's first job, loading the model: {batch['cold']:,.0f}), "
            f"onnxruntime directly {batch['direct']:,.0f} rows/s ({100 * batch['platform'] / batch['direct']:.0f} %)"
        )


def database(url: str, suffix: str = "") -> str:
    """`url` with `suffix` added to its database name; created if it does not exist."""
    import psycopg2

    base, _, name = url.rpartition("/")
    other = f"{name}{suffix}"
    connection = psycopg2.connect(f"{base}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [other])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{other}"')
    connection.close()
    return f"{base}/{other}"


def compare(args, results: dict, base_env: dict, gunicorn: str) -> None:
    """This working tree against `args.against`, loaded in turn on each backend and case."""
    from statistics import median

    before_root = tempfile.mkdtemp(prefix="maas-serving-before-")
    subprocess.run(
        ["git", "-C", ROOT, "worktree", "add", "--detach", before_root, args.against],
        check=True,
        capture_output=True,
    )
    sides = {"before": before_root, "after": ROOT}
    rounds: dict = {}
    try:
        for backend, extra in backend_envs(args):
            servers = {}
            try:
                for side, root in sides.items():
                    env = {
                        **base_env,
                        **extra,
                        "PYTHONPATH": root,
                        "MAAS_DATA_DIR": tempfile.mkdtemp(prefix=f"maas-serving-{side}-"),
                        "MAAS_ACCESS_LOG": "false",
                        "MAAS_GENERATION_KEY": f"maas:bench:{side}:generation",
                        "MAAS_USAGE_STREAM": f"maas:bench:{side}:usage",
                    }
                    if extra["DATABASE_URL"]:
                        suffix = "_before" if side == "before" else ""
                        env["DATABASE_URL"] = database(extra["DATABASE_URL"], suffix)
                    setup = setup_maas(env, root)
                    port = free_port()
                    servers[side] = (
                        maas_server(gunicorn, env, port, MAAS_WORKER, root),
                        port,
                        setup,
                    )
                for name, model_key, n in CASES:
                    for _ in range(args.rounds):
                        for side, (_, port, setup) in servers.items():
                            r = predict_load(port, setup, model_key, n, args.seconds)
                            rounds.setdefault((backend, name, side), []).append(r)
            finally:
                for process, _, _ in servers.values():
                    stop(process)
                if extra["REDIS_URL"]:
                    import redis

                    client = redis.Redis.from_url(extra["REDIS_URL"])
                    client.delete(*[f"maas:bench:{side}:usage" for side in sides])
    finally:
        subprocess.run(
            ["git", "-C", ROOT, "worktree", "remove", "--force", before_root], check=False
        )

    print_header(args.seconds)
    print(
        f"before: {args.against}; after: this working tree. Each side loaded {args.rounds} times "
        "per case, in turn; medians.\n"
    )
    print(
        f"| {'case':<28} | {'backend':<20} | {'before req/s':>12} | {'after req/s':>11} | {'after/before':>12} | {'after vs baseline':>17} | {'rounds (after)':<24} |"
    )
    print(f"|{'-' * 30}|{'-' * 22}|{'-' * 14}|{'-' * 13}|{'-' * 14}|{'-' * 19}|{'-' * 26}|")
    for backend, _ in backend_envs(args):
        for name, _, _ in CASES:
            before = median(r["rps"] for r in rounds[(backend, name, "before")])
            after_runs = [r["rps"] for r in rounds[(backend, name, "after")]]
            after = median(after_runs)
            base = results[("baseline", name)]["rps"]
            spread = ", ".join(f"{v:,.0f}" for v in after_runs)
            errors = sum(r["errors"] for side in sides for r in rounds[(backend, name, side)])
            if errors:
                spread += f" ({errors} non-2xx)"
            print(
                f"| {name:<28} | {backend:<20} | {before:>12,.0f} | {after:>11,.0f} | {after / before:>11.3f}x | {after / base:>16.2f}x | {spread:<24} |"
            )
    for name, _, _ in CASES:
        print(
            f"\nbaseline (Flask + pickle), {name}: {results[('baseline', name)]['rps']:,.0f} req/s"
        )


if __name__ == "__main__":
    main()
