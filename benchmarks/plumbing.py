"""What the auth + tenant base view + idempotency layers cost per request.

Runs the same tiny answer through each layer, in process (Django's test client drives the full
middleware stack and WSGI handler; no network), on SQLite and, when --postgres is given, on
PostgreSQL with Redis rate limits. Prints medians of per-request microseconds and the cost of
each layer as differences measured side by side in one run.

    .venv/bin/python benchmarks/plumbing.py \
        --postgres postgres://maas:maas@127.0.0.1:5432/maas --redis redis://127.0.0.1:6379/0
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = [
    ("plain", "GET", "plain Django view (baseline)"),
    ("drf", "GET", "DRF APIView, no auth"),
    ("tenant_get", "GET", "TenantAPIView GET: key, scope, rate limit, tenant"),
    ("tenant_post", "POST", "TenantAPIView POST (atomic)"),
    ("tenant_post_idem", "POST", "TenantAPIView POST + Idempotency-Key"),
]


def child(batches: int, per_batch: int) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    for handler in logging.getLogger().handlers:  # format log lines as in production, drop them
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    settings.ROOT_URLCONF = "_plumbing_urls"
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from tenants import services

    tenant = services.tenant_create(name="bench", plan="enterprise", requests_per_minute=10**9)
    _, raw = services.api_key_create(tenant=tenant, scopes=["read", "write"])
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def call(case: str) -> int:
        if case == "plain":
            return client.get("/plain").status_code
        if case == "drf":
            return client.get("/drf").status_code
        if case == "tenant_get":
            return client.get("/tenant", **auth).status_code
        if case == "tenant_post":
            return client.post(
                "/tenant", {"a": 1}, content_type="application/json", **auth
            ).status_code
        key = uuid.uuid4().hex
        return client.post(
            "/tenant", {"a": 1}, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **auth
        ).status_code

    results: dict[str, list[float]] = {case: [] for case, _, _ in CASES}
    for case, _, _ in CASES:  # warm-up
        for _ in range(50):
            assert call(case) in (200, 201), case
    for _ in range(batches):  # interleave cases so machine noise hits them alike
        for case, _, _ in CASES:
            start = time.perf_counter()
            for _ in range(per_batch):
                call(case)
            results[case].append((time.perf_counter() - start) / per_batch * 1e6)
    print(json.dumps({case: statistics.median(v) for case, v in results.items()}))


def run_backend(name: str, env: dict[str, str], args) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "--batches",
            str(args.batches),
            "--per-batch",
            str(args.per_batch),
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"{name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--per-batch", type=int, default=200)
    parser.add_argument("--postgres", help="DATABASE_URL of a scratch PostgreSQL database")
    parser.add_argument("--redis", help="REDIS_URL for rate limits with --postgres")
    args = parser.parse_args()
    if args.child:
        child(args.batches, args.per_batch)
        return

    backends: list[tuple[str, dict[str, str]]] = []
    tmp = tempfile.mkdtemp(prefix="maas-bench-")
    backends.append(("SQLite", {"MAAS_DATA_DIR": tmp, "DATABASE_URL": "", "REDIS_URL": ""}))
    if args.postgres:
        env = {"MAAS_DATA_DIR": tmp, "DATABASE_URL": args.postgres, "REDIS_URL": args.redis or ""}
        backends.append(("PostgreSQL" + (" + Redis" if args.redis else ""), env))

    print(
        f"median µs per request, {args.batches} batches x {args.per_batch} requests, in process\n"
    )
    for name, env in backends:
        r = run_backend(name, env, args)
        print(f"## {name}")
        print(f"| {'layer':<52} | {'µs/request':>10} | {'vs previous':>11} |")
        print(f"|{'-' * 54}|{'-' * 12}|{'-' * 13}|")
        previous = None
        for case, _, label in CASES:
            delta = "" if previous is None else f"{r[case] - r[previous]:+.0f}"
            print(f"| {label:<52} | {r[case]:>10.0f} | {delta:>11} |")
            previous = case
        print(
            f"\nauth + scope + rate limit + tenant scoping: {r['tenant_get'] - r['drf']:.0f} µs; "
            f"idempotency on a POST: {r['tenant_post_idem'] - r['tenant_post']:.0f} µs\n"
        )


if __name__ == "__main__":
    main()
