"""What the benchmarks share: ports, wrk, a maas web server as the Procfile starts it, a trained
tenant, the breast-cancer rows, the seed-style Flask baseline. Not a benchmark itself."""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [
    ("LogisticRegression, 1 row", "lr", 1),
    ("RandomForest(100), 1 row", "rf", 1),
    ("RandomForest(100), 100 rows", "rf", 100),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 120, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}) before listening")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def wrk(url: str, body: dict, headers: dict, seconds: int, warmup: int = 3) -> dict:
    """wrk -t2 -c16 POSTing `body` for `seconds` after a `warmup`: req/s, p50/p99 ms, non-2xx."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
    script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n')
    for name, value in {"Content-Type": "application/json", **headers}.items():
        script.write(f'wrk.headers["{name}"] = "{value}"\n')
    script.close()
    if warmup:
        subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{warmup}s", "-s", script.name, url],
            capture_output=True,
            check=True,
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
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50"),
        "p99": ms("99"),
        "errors": (int(non2xx.group(1)) if non2xx else 0)
        + (sum(int(n) for n in errors.groups()) if errors else 0),
    }


def rows(n: int) -> tuple[list, list]:
    """The first n breast-cancer rows, as lists (the baseline's input) and as objects (maas's)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = [n.replace(" ", "_") for n in data.feature_names]
    lists = [[float(v) for v in row] for row in data.data[:n]]
    return lists, [dict(zip(names, r, strict=True)) for r in lists]


def setup_maas(env: dict, root: str = ROOT) -> dict:
    """Migrates, trains a LogisticRegression and a RandomForest(100) in this process (no worker
    needed), returns their model ids, a predict key of a tenant without a rate limit to speak
    of, the tenant and the dataset."""
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
    job = training_job_create(tenant=tenant, **fields)
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


def maas_server(env: dict, port: int, cwd: str = ROOT, workers: int = 2) -> subprocess.Popen:
    """maas's web server as the Procfile starts it (`python -m maas.web`), on 127.0.0.1:port."""
    env = {**env, "PORT": str(port), "MAAS_WEB_HOST": "127.0.0.1", "WEB_CONCURRENCY": str(workers)}
    return serve([sys.executable, "-m", "maas.web"], env, port, cwd)


def serve(cmd: list[str], env: dict, port: int, cwd: str = ROOT) -> subprocess.Popen:
    process = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_port(port, process=process)
    return process


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM to the process (its graceful stop), then its whole group once it has gone."""
    try:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def baseline_models(tmp: str) -> dict:
    """The baseline's models, pickled with joblib as a seed-style server keeps them."""
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


def baseline_server(model_path: str, port: int) -> subprocess.Popen:
    """The seed-style server: a Flask route over a pickled model, gunicorn -w 2 (sync)."""
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    env = {**os.environ, "MODEL_PATH": model_path}
    cmd = [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", HERE, "_flask_baseline:app"]
    return serve(cmd, env, port)


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


def backend_envs(args, postgres: str | None = None) -> list[tuple[str, dict]]:
    """SQLite, and PostgreSQL + Redis where --postgres (and --redis) name them."""
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


def database_recreate(url: str) -> None:
    """An empty database at `url` (dropped first if it exists): each run starts from nothing."""
    import psycopg2

    base, _, name = url.rpartition("/")
    connection = psycopg2.connect(f"{base}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
