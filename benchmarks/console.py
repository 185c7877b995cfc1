"""Console pages: server-side time per page with a month of usage for 50 models.

The issue's goal: every console page answers in < 150 ms p50 server-side. Each page is asked
for through Django's full request stack in this process (middleware, session, templates; no
network), `--requests` times after 3 warm-ups, signed in as the tenant's owner; the table gives
p50, p90 and the number of SQL queries per page.

The tenant: 50 models of 3 versions each (with evaluations), 20 datasets, 50 training jobs with
events, 20 batch jobs, 3 past invoices, and 30 days of usage (predictions of every model four
times a day, compute and data daily), rolled up as the worker would.

    .venv/bin/python benchmarks/console.py [--postgres postgres://maas:maas@127.0.0.1:5432/maas_bench]

The PostgreSQL database is emptied first (a scratch database).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS, DAYS = 50, 30
TARGET_MS = 150


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="a scratch database URL (emptied first)")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    os.environ["MAAS_DATA_DIR"] = tempfile.mkdtemp(prefix="maas-console-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "maas.settings"
    os.environ["MAAS_ACCESS_LOG"] = "false"
    if args.postgres:
        sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
        from _harness import database_recreate

        database_recreate(args.postgres)
        os.environ["DATABASE_URL"] = args.postgres
    sys.path.insert(0, ROOT)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    pages, client = stock()
    measure(pages, client, args.requests, "PostgreSQL" if args.postgres else "SQLite")


def stock():
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from billing.services import usage_process, usage_record
    from tests.console.test_pages import EVALUATION
    from tests.factories import (
        DatasetFactory,
        InferenceJobFactory,
        InvoiceFactory,
        MembershipFactory,
        ModelVersionFactory,
        TenantFactory,
        TrainingJobFactory,
    )
    from training.services import event

    setup_test_environment()  # allows the test client's host
    tenant = TenantFactory(spend_limit=500)
    member = MembershipFactory(tenant=tenant, role="owner")
    signature = {"inputs": [{"name": "tenure", "dtype": "number"}], "target": "churn"}
    models = []
    for _ in range(MODELS):
        first = ModelVersionFactory(
            model__tenant=tenant,
            model__latest_version=3,
            evaluation=EVALUATION,
            metrics={"accuracy": 0.9},
            signature=signature,
        )
        for n in (2, 3):
            ModelVersionFactory(
                model=first.model,
                version=n,
                evaluation=EVALUATION,
                metrics={"accuracy": 0.9},
                signature=signature,
            )
        models.append(first.model_id)
    datasets = [DatasetFactory(tenant=tenant) for _ in range(20)]
    jobs = []
    for i in range(50):
        job = TrainingJobFactory(
            tenant=tenant,
            status="succeeded" if i % 5 else "failed",
            progress=1.0,
            error_message="" if i % 5 else "The target has one class.",
            finished_at=datetime.now(UTC) - timedelta(hours=i),
        )
        for epoch in range(1, 21):
            event(
                job,
                f"epoch {epoch}",
                loss=1 / epoch,
                val_loss=1.1 / epoch,
                accuracy=1 - 1 / (epoch + 1),
            )
        jobs.append(job)
    batch = [
        InferenceJobFactory(tenant=tenant, total=1000, completed=1000, status="succeeded")
        for _ in range(20)
    ]
    invoices = [
        InvoiceFactory(
            tenant=tenant,
            period_start=datetime(2026, m, 1, tzinfo=UTC),
            period_end=datetime(2026, m + 1, 1, tzinfo=UTC),
        )
        for m in (8, 9, 10)
    ]
    now = datetime.now(UTC)
    started = time.perf_counter()
    events = 0
    for day in range(DAYS):
        when = now - timedelta(days=day)
        for hour in (1, 7, 13, 19):
            for model in models:
                usage_record(
                    tenant=tenant,
                    meter="predictions",
                    quantity=250,
                    occurred_at=when.replace(hour=hour),
                    idempotency_key=f"p:{model}:{day}:{hour}",
                    dimensions={"model": model, "price_tier": "light", "api_key": "key_bench"},
                )
                events += 1
        usage_record(
            tenant=tenant,
            meter="compute.cpu_seconds",
            quantity=3600,
            occurred_at=when,
            idempotency_key=f"c:{day}",
        )
        usage_record(
            tenant=tenant,
            meter="data.ingested_bytes",
            quantity=10**8,
            occurred_at=when,
            idempotency_key=f"d:{day}",
        )
        events += 2
    usage_process()
    print(
        f"stocked: {MODELS} models x 3 versions, {events:,} usage events over {DAYS} days "
        f"rolled up in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    client = Client()
    client.force_login(member.user)
    r = reverse
    pages = [
        ("Overview", r("console:overview")),
        ("API keys", r("console:keys")),
        ("Datasets", r("console:datasets")),
        ("Dataset", r("console:dataset", kwargs={"id": datasets[0].pk})),
        ("Training", r("console:training")),
        ("Training job (20 epochs)", r("console:training_job", kwargs={"id": jobs[1].pk})),
        ("Models", r("console:models")),
        ("Model", r("console:model", kwargs={"id": models[0]})),
        ("Batch jobs", r("console:batch")),
        ("Batch job", r("console:batch_job", kwargs={"id": batch[0].pk})),
        ("Usage (this month)", r("console:usage")),
        (
            "Usage (30 days)",
            r("console:usage")
            + f"?start={(now - timedelta(days=DAYS - 1)).date()}&end={now.date()}",
        ),
        (
            "Usage CSV (30 days, per day and model)",
            r("console:usage_csv")
            + f"?start={(now - timedelta(days=DAYS - 1)).date()}&end={now.date()}&group_by=day,model",
        ),
        ("Invoices", r("console:invoices")),
        ("Invoice", r("console:invoice", kwargs={"id": invoices[0].pk})),
        ("Upcoming invoice PDF", r("console:invoice_upcoming_pdf")),
        ("Settings", r("console:settings")),
    ]
    return pages, client


def measure(pages, client, n: int, backend: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print(f"\n{backend}, {n} requests per page after 3 warm-ups, in process (no network)\n")
    print("| page | p50 ms | p90 ms | SQL queries | < 150 ms p50 |")
    print("|---|---|---|---|---|")
    slowest = 0.0
    for name, url in pages:
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        times = []
        for _ in range(n):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        p50 = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        slowest = max(slowest, p50)
        print(
            f"| {name} | {p50:.1f} | {p90:.1f} | {len(queries)} | {'yes' if p50 < TARGET_MS else 'NO'} |"
        )
    print(f"\nslowest page p50: {slowest:.1f} ms (target < {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
