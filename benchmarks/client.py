"""The client's cost: one predict call through `maas_client` against the same call made with raw
httpx, side by side in one run.

maas as the Procfile serves it (`python -m maas.web`, two processes), on SQLite and (with
--postgres/--redis) on PostgreSQL + Redis; one caller, calls in sequence over one kept
connection, LogisticRegression 1 row and RandomForest(100) 100 rows on breast-cancer data. Raw
httpx sends what the client sends (Authorization and a fresh Idempotency-Key per call); the
client parses the answer into its typed result as well. Rounds alternate raw and client so
both see the same server state; the table gives each side's median latency per call over all
rounds and the client's overhead.

    .venv/bin/python benchmarks/client.py [--calls 300] [--rounds 5] \
        [--postgres postgres://maas:maas@127.0.0.1:5432/maas_bench --redis redis://127.0.0.1:6379/0]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import (
    ROOT,
    backend_envs,
    database,
    free_port,
    maas_server,
    rows,
    setup_maas,
    stop,
)
from maas_client import Maas

CASES = [("LogisticRegression, 1 row", "lr", 1), ("RandomForest(100), 100 rows", "rf", 100)]


def timed(call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def measure(base: str, key: str, model: str, inputs: list, calls: int, rounds: int) -> dict:
    http = httpx.Client(timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    url = f"{base}/v1/models/{model}/predict"
    body = {"inputs": inputs}

    def raw() -> None:
        response = http.post(
            url, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
        )
        response.raise_for_status()
        response.json()

    client = Maas(api_key=key, base_url=base)

    def through_client() -> None:
        client.models.predict(model, inputs)

    for warm in (raw, through_client):
        timed(warm, 50)
    samples = {"raw": [], "client": []}
    for _ in range(rounds):
        samples["raw"] += timed(raw, calls)
        samples["client"] += timed(through_client, calls)
    http.close()
    client.close()
    return {side: statistics.median(values) * 1000 for side, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres")
    parser.add_argument("--redis")
    parser.add_argument("--calls", type=int, default=300, help="calls per side per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    base_env = {**os.environ, "PYTHONPATH": ROOT, "DJANGO_SETTINGS_MODULE": "maas.settings"}
    results = []
    postgres = database(args.postgres) if args.postgres else None  # created if missing
    for backend, extra in backend_envs(args, postgres):
        data_dir = tempfile.mkdtemp(prefix="maas-client-bench-")
        env = {**base_env, **extra, "MAAS_DATA_DIR": data_dir, "MAAS_ACCESS_LOG": "false"}
        setup = setup_maas(env)
        port = free_port()
        process = maas_server(env, port)
        try:
            for name, model_key, n in CASES:
                _, inputs = rows(n)
                medians = measure(
                    f"http://127.0.0.1:{port}",
                    setup["key"],
                    setup["models"][model_key],
                    inputs,
                    args.calls,
                    args.rounds,
                )
                results.append((backend, name, medians))
        finally:
            stop(process)
    print(
        f"one caller, calls in sequence on one kept connection; {args.rounds} rounds of "
        f"{args.calls} calls per side, alternating; medians per call\n"
    )
    print("| backend | case | raw httpx p50 ms | maas_client p50 ms | client overhead |")
    print("|---|---|---|---|---|")
    for backend, name, m in results:
        overhead = 100 * (m["client"] - m["raw"]) / m["raw"]
        print(f"| {backend} | {name} | {m['raw']:.3f} | {m['client']:.3f} | {overhead:+.1f} % |")


if __name__ == "__main__":
    main()
