"""Training: queue latency (job created -> running) and the platform's overhead on a long job.

For the embedded broker (filesystem, SQLite) and, with --redis, Redis (with --postgres, on
PostgreSQL): a real Celery worker runs the jobs. Overhead compares the job's own wall time
(started -> finished: reading the CSV, preprocessing, fitting in chunks, evaluating, skops and
ONNX export with its parity check, publishing) with calling scikit-learn directly on the same
data (read CSV, fit, predict the validation rows), side by side in one run.

    .venv/bin/python benchmarks/training.py --redis redis://127.0.0.1:6379/0 \
        --postgres postgres://maas:maas@127.0.0.1:5432/maas_bench
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def synthetic_csv(rows: int, features: int, seed: int = 0) -> bytes:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features))
    y = (X[:, : features // 2].sum(axis=1) + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(features)])
    frame["label"] = y
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def direct_sklearn(csv: bytes, n_estimators: int) -> float:
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    started = time.perf_counter()
    frame = pd.read_csv(io.BytesIO(csv))
    y = frame.pop("label").to_numpy()
    X_train, X_val, y_train, _ = train_test_split(frame, y, test_size=0.2, random_state=0)
    model = RandomForestClassifier(n_estimators=n_estimators, random_state=0, n_jobs=1)
    model.fit(X_train, y_train)
    model.predict(X_val)
    return time.perf_counter() - started


def run_config(n_latency: int, long_rows: int, long_trees: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
    import django

    django.setup()
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from billing.models import MeterPrice, PriceBook
    from billing.price_book_defaults import ensure_default_price_books
    from catalog.services import dataset_create
    from maas.celery import app
    from tenants.services import tenant_create
    from training.models import TrainingJob
    from training.services import training_job_create

    ensure_default_price_books(PriceBook, MeterPrice)
    tenant = tenant_create(name=f"bench-{time.time_ns()}", plan="enterprise")
    app.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "maas",
            "worker",
            "-Q",
            "training",
            "-c",
            "1",
            "-l",
            "error",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        small = dataset_create(
            tenant=tenant,
            upload=SimpleUploadedFile("s.csv", synthetic_csv(2000, 10)),
            name="small",
            sha256="0" * 64,
        )

        def run_job(dataset, params) -> TrainingJob:
            job = training_job_create(
                tenant=tenant,
                data={
                    "dataset": dataset.pk,
                    "target": "label",
                    "algorithm": params.pop("algorithm"),
                    "params": params,
                },
            )
            while True:
                job.refresh_from_db()
                if job.status in TrainingJob.FINISHED:
                    return job
                time.sleep(0.01)

        run_job(small, {"algorithm": "logistic_regression"})  # warm the worker up
        latencies = []
        for _ in range(n_latency):
            job = run_job(small, {"algorithm": "logistic_regression"})
            latencies.append((job.started_at - job.created_at).total_seconds() * 1000)
        result = {
            "broker": settings.CELERY_BROKER_URL.split(":")[0],
            "database": django.db.connection.vendor,
            "latency_p50_ms": statistics.median(latencies),
            "latency_max_ms": max(latencies),
        }
        if long_rows:
            csv = synthetic_csv(long_rows, 20)
            big = dataset_create(
                tenant=tenant, upload=SimpleUploadedFile("b.csv", csv), name="big", sha256="0" * 64
            )
            direct = direct_sklearn(csv, long_trees)
            job = run_job(
                big, {"algorithm": "random_forest_classifier", "n_estimators": long_trees}
            )
            assert job.status == "succeeded", job.error_message
            platform = (job.finished_at - job.started_at).total_seconds()
            result.update(
                direct_s=direct,
                platform_s=platform,
                end_to_end_s=(job.finished_at - job.created_at).total_seconds(),
                stages={
                    e.message: e.created_at.isoformat()
                    for e in job.events.order_by("created_at")
                    if e.message
                    in (
                        "started",
                        "split",
                        "evaluating on the validation rows",
                        "validation metrics",
                        "ONNX export checked",
                        "succeeded",
                    )
                },
            )
        return result
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis")
    parser.add_argument("--postgres")
    parser.add_argument("--jobs", type=int, default=15)
    parser.add_argument("--long-rows", type=int, default=60_000)
    parser.add_argument("--long-trees", type=int, default=200)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_config(args.jobs, args.long_rows, args.long_trees)))
        return
    configs = [
        (
            "embedded (filesystem broker, SQLite)",
            {"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""},
            args.long_rows,
        )
    ]
    if args.redis:
        configs.append(
            (
                "Redis broker" + (" + PostgreSQL" if args.postgres else ", SQLite"),
                {
                    "DATABASE_URL": args.postgres or "",
                    "REDIS_URL": args.redis,
                    "CELERY_BROKER_URL": args.redis,
                },
                0,
            )
        )
    print(f"queue latency: {args.jobs} small jobs one after another, job created -> running\n")
    print(f"| {'broker':<38} | {'p50 ms':>8} | {'max ms':>8} |")
    print(f"|{'-' * 40}|{'-' * 10}|{'-' * 10}|")
    overhead = None
    for name, env, long_rows in configs:
        tmp = tempfile.mkdtemp(prefix="maas-train-")
        child_env = {**os.environ, "MAAS_DATA_DIR": tmp, "MAAS_USAGE_SINK": "database", **env}
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--jobs",
                str(args.jobs),
                "--long-rows",
                str(long_rows),
                "--long-trees",
                str(args.long_trees),
            ],
            env=child_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            sys.exit(out.stderr[-4000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {name:<38} | {r['latency_p50_ms']:>8.0f} | {r['latency_max_ms']:>8.0f} |")
        if "direct_s" in r:
            overhead = r
    if overhead:
        r = overhead
        print(
            f"\nRandomForest({args.long_trees} trees), {args.long_rows:,} rows x 20 features, validation 20 %:"
        )
        print(f"  scikit-learn directly (read CSV, fit, predict): {r['direct_s']:.1f} s")
        print(
            f"  maas job (started -> finished):                 {r['platform_s']:.1f} s "
            f"(overhead {100 * (r['platform_s'] / r['direct_s'] - 1):+.0f} %)"
        )
        print(f"  maas job (created -> finished):                 {r['end_to_end_s']:.1f} s")
        for stage, at in r["stages"].items():
            print(f"    {at[11:23]}  {stage}")


if __name__ == "__main__":
    main()
