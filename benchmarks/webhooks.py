"""Webhooks: from the commit that records an event (a job finishing) to its delivery arriving.

A real Celery worker on the `webhooks` queue sends each delivery to a receiver on 127.0.0.1;
the clock starts when the transaction that records the event commits (what a job's end does)
and stops when the receiver has read the request. On the embedded broker (filesystem, SQLite)
and, with --redis (and --postgres), on Redis.

    .venv/bin/python benchmarks/webhooks.py --redis redis://127.0.0.1:6379/0 \
        --postgres postgres://maas:maas@127.0.0.1:5432/maas_bench
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RUN = r"""
import json, os, sys, time, subprocess, django
django.setup()
from django.core.management import call_command
from django.db import transaction
call_command("migrate", verbosity=0)
from tests.helpers import Receiver
from tenants.services import tenant_create
from webhooks.services import event_record, webhook_endpoint_create

receiver = Receiver()
tenant = tenant_create(name="bench", plan="enterprise")
webhook_endpoint_create(tenant=tenant, url=receiver.url, events=["*"])
worker = subprocess.Popen(
    [sys.executable, "-m", "celery", "-A", "maas", "worker", "-Q", "webhooks", "-c", "2",
     "--pool", "prefork", "-l", "warning", "--without-heartbeat", "--without-mingle",
     "--without-gossip"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
latencies = []
try:
    for i in range(int(os.environ["BENCH_N"]) + 3):
        before = len(receiver.received)
        with transaction.atomic():
            event_record(tenant_id=tenant.pk, type="training_job.succeeded", obj={"id": f"trj_{i}"})
        committed = time.perf_counter()
        deadline = committed + 30
        while len(receiver.received) == before and time.perf_counter() < deadline:
            time.sleep(0.001)
        assert len(receiver.received) > before, "no delivery within 30 s"
        if i >= 3:  # the first ones wait for the worker to start
            latencies.append(time.perf_counter() - committed)
finally:
    worker.terminate()
    worker.wait()
print(json.dumps(latencies))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis")
    parser.add_argument("--postgres")
    parser.add_argument("-n", type=int, default=30)
    args = parser.parse_args()
    backends = [("embedded (filesystem broker, SQLite)", {})]
    if args.redis:
        backends.append(
            (
                "Redis" + (" + PostgreSQL" if args.postgres else ""),
                {
                    "REDIS_URL": args.redis,
                    "CELERY_BROKER_URL": args.redis,
                    "DATABASE_URL": args.postgres or "",
                },
            )
        )
    print("| broker | p50 ms | p90 ms | max ms | deliveries |\n|---|---|---|---|---|")
    for name, extra in backends:
        env = {
            **os.environ,
            "PYTHONPATH": ROOT,
            "DJANGO_SETTINGS_MODULE": "maas.settings",
            "MAAS_DATA_DIR": tempfile.mkdtemp(prefix="maas-webhooks-"),
            "MAAS_WEBHOOKS_ALLOW_PRIVATE": "true",
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "BENCH_N": str(args.n),
            **extra,
        }
        done = subprocess.run(
            [sys.executable, "-c", RUN], env=env, cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode:
            sys.exit(done.stderr[-3000:])
        ms = sorted(1000 * s for s in json.loads(done.stdout.strip().splitlines()[-1]))
        p90 = ms[int(0.9 * (len(ms) - 1))]
        print(f"| {name} | {statistics.median(ms):.0f} | {p90:.0f} | {ms[-1]:.0f} | {len(ms)} |")
        time.sleep(0.5)


if __name__ == "__main__":
    main()
