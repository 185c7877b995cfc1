"""Metering: what usage_record costs, and what reports cost over millions of events.

Side by side in one run, on SQLite and (with --postgres) on PostgreSQL:
  1. usage_record calls per second from one process and from two at once, with p50/p99
     latency per call: the database sink, the usage inbox (the embedded default) and, with
     --redis, the Redis stream sink; plus how fast the billing worker drains inbox and stream;
  2. how fast rollups absorb events;
  3. GET /v1/usage and GET /v1/invoices/upcoming over 1 million and 10 million events of one
     tenant (rolled up, plus a tail of 1,000 events not rolled up yet), through the full stack.

`--drain-cpu 25000` measures only the CPU of one drain of the usage inbox holding 25,000
predictions' lines (what ~5 s of load leaves for the worker every MAAS_USAGE_PROCESS_SECONDS).

    .venv/bin/python benchmarks/metering.py --postgres postgres://maas:maas@127.0.0.1:5432/maas_bench \
        --redis redis://127.0.0.1:6379/0

The PostgreSQL database is emptied first (a scratch database, not one with data you keep).
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


def setup_django(fresh: bool = False):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
    import django

    django.setup()
    import logging

    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.ERROR)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_tenant(name: str):
    from tenants.models import Tenant
    from tenants.services import tenant_create

    return Tenant.objects.filter(name=name).first() or tenant_create(
        name=name, plan="enterprise", requests_per_minute=10**9
    )


# --- 1. recording -------------------------------------------------------------------------------


def record_worker(tenant_id: str, calls: int, start_at: float, prefix: str) -> None:
    setup_django()
    from billing.services import usage_record

    for i in range(200):  # warm-up: connections, scripts, code paths
        usage_record(
            tenant=tenant_id,
            meter="predictions",
            quantity=1,
            idempotency_key=f"{prefix}w{i}",
            new_key=True,
        )
    while time.time() < start_at:
        time.sleep(0.0005)
    latencies = []
    started = time.perf_counter()
    for i in range(calls):
        t0 = time.perf_counter()
        usage_record(
            tenant=tenant_id,
            meter="predictions",
            quantity=1,
            idempotency_key=f"{prefix}{i}",
            dimensions={"price_tier": "standard", "model": "mdl_bench", "api_key": "key_bench"},
            new_key=True,  # as a prediction records its usage: a key made up for the event
        )
        latencies.append(time.perf_counter() - t0)
    print(json.dumps({"elapsed": time.perf_counter() - started, "latencies": latencies}))


def run_recorders(env: dict, tenant_id: str, processes: int, calls: int, tag: str) -> dict:
    start_at = time.time() + 3.0
    children = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--record-worker",
                tenant_id,
                str(calls),
                str(start_at),
                f"{tag}-{p}-",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(processes)
    ]
    results = []
    for child in children:
        out, err = child.communicate()
        if child.returncode:
            sys.exit(err[-3000:])
        results.append(json.loads(out.strip().splitlines()[-1]))
    latencies = sorted(x for r in results for x in r["latencies"])
    wall = max(r["elapsed"] for r in results)
    return {
        "per_second": processes * calls / wall,
        "p50_us": latencies[len(latencies) // 2] * 1e6,
        "p99_us": latencies[int(len(latencies) * 0.99)] * 1e6,
    }


def drain_throughput(sink: str) -> float:
    from billing.drain import drain_usage_inbox, drain_usage_redis

    drain = drain_usage_redis if sink == "stream" else drain_usage_inbox
    started = time.perf_counter()
    drained = 0
    while stored := drain(batch_size=1000):  # events stored (a row may sum several)
        drained += stored
    return drained / (time.perf_counter() - started)


def drain_cpu(lines: int, runs: int = 5) -> dict:
    """CPU of one drain of the inbox holding `lines` predictions' tally lines (one tenant, model
    and API key, as a load of one model writes them), and of the whole `process_usage` after
    them: medians of `runs`, in this process, which also wrote the lines."""
    from billing.services import drain_usage_inbox, usage_prepare, usage_process

    tenant = bench_tenant("drain-cpu-bench")

    def write() -> None:
        for i in range(lines):
            usage_prepare(
                tenant=tenant,
                meter="predictions",
                quantity=1,
                idempotency_key=f"d{time.time_ns()}-{i}",
                dimensions={"price_tier": "standard", "model": "mdl_bench", "api_key": "key_bench"},
                new_key=True,
            ).commit()

    usage_process()  # anything left by an earlier run, and the first connection
    result = {}
    for name, run in (("drain_ms", drain_usage_inbox), ("process_usage_ms", usage_process)):
        spent = []
        for _ in range(runs):
            write()
            started = time.process_time()
            run()
            spent.append((time.process_time() - started) * 1000)
        result[name] = statistics.median(spent)
    return result


# --- 2 and 3. rollups and reports over many events -----------------------------------------------


def generate_events(tenant_id: str, count: int, month_start, rolled_up: bool) -> None:
    """Bulk-inserts `count` events spread over the month (SQL-side, so 10 M rows take a minute)."""
    from django.db import connection

    dims = [
        ("predictions", '{"model": "mdl_a", "price_tier": "light"}', "a"),
        ("predictions", '{"model": "mdl_b", "price_tier": "standard"}', "b"),
        ("predictions", '{"model": "mdl_c", "price_tier": "heavy"}', "c"),
        ("compute.cpu_seconds", '{"job": "trj_1"}', "d"),
        ("data.processed_rows", '{"job": "trj_1"}', "e"),
    ]
    case_meter = (
        "CASE "
        + " ".join(f"WHEN i %% 5 = {n} THEN '{m}'" for n, (m, _, _) in enumerate(dims))
        + " END"
    )
    case_dims = (
        "CASE "
        + " ".join(f"WHEN i %% 5 = {n} THEN '{d}'" for n, (_, d, _) in enumerate(dims))
        + " END"
    )
    case_key = (
        "CASE "
        + " ".join(f"WHEN i %% 5 = {n} THEN '{k}'" for n, (_, _, k) in enumerate(dims))
        + " END"
    )
    seconds = 27 * 86400
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute(
                f"""INSERT INTO billing_usageevent (tenant_id, meter, quantity, idempotency_key,
                occurred_at, recorded_at, dimensions, dims_key, rolled_up, event_count)
                SELECT %s, {case_meter}, 1 + i %% 7, 'gen-' || i,
                       %s::timestamptz + ((i %% {seconds}) || ' seconds')::interval, now(),
                       ({case_dims})::jsonb, {case_key}, %s, 1
                FROM generate_series(1, %s) AS i""",
                [tenant_id, month_start, rolled_up, count],
            )
        else:
            c.execute(
                f"""WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %s)
                INSERT INTO billing_usageevent (tenant_id, meter, quantity, idempotency_key,
                occurred_at, recorded_at, dimensions, dims_key, rolled_up, event_count)
                SELECT %s, {case_meter}, 1 + i %% 7, 'gen-' || i,
                       strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '+' || (i %% {seconds}) || ' seconds'),
                       strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now'), {case_dims}, {case_key}, %s, 1
                FROM seq""",
                [count, tenant_id, month_start.strftime("%Y-%m-%d %H:%M:%S"), rolled_up],
            )


def build_rollups_in_sql(tenant_id: str) -> None:
    """What rebuild_rollups computes, in one GROUP BY per table, for the 10 M-event setup."""
    from django.db import connection

    trunc = {
        "postgresql": ("date_trunc('hour', occurred_at)", "date_trunc('day', occurred_at)"),
        "sqlite": (
            "strftime('%%Y-%%m-%%d %%H:00:00', occurred_at)",
            "strftime('%%Y-%%m-%%d 00:00:00', occurred_at)",
        ),
    }[connection.vendor]
    pg = connection.vendor == "postgresql"
    dims = "MIN(dimensions::text)::jsonb" if pg else "MIN(dimensions)"
    with connection.cursor() as c:
        for table, bucket in (("billing_usagehourly", trunc[0]), ("billing_usagedaily", trunc[1])):
            c.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])
            c.execute(
                f"""INSERT INTO {table} (tenant_id, meter, bucket, dims_key, dimensions, quantity,
                event_count, updated_at)
                SELECT tenant_id, meter, {bucket}, dims_key, {dims},
                       SUM(quantity), SUM(event_count), {"now()" if connection.vendor == "postgresql" else "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now')"}
                FROM billing_usageevent WHERE tenant_id = %s AND rolled_up = %s
                GROUP BY tenant_id, meter, {bucket}, dims_key""",
                [tenant_id, True],
            )
        if connection.vendor == "postgresql":
            c.execute("ANALYZE billing_usageevent; ANALYZE billing_usagedaily")


def time_get(client, path: str, headers: dict, n: int = 15) -> float:
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(path, **headers)
        timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content
    return statistics.median(timings) * 1000


def reports_worker(sizes: list[int]) -> None:
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from billing.models import MeterPrice, PriceBook, UsageDaily, UsageEvent, UsageHourly
    from billing.price_book_defaults import ensure_default_price_books
    from billing.rollups import month_start, rollup_pending_usage
    from tenants.services import api_key_create

    ensure_default_price_books(PriceBook, MeterPrice)
    out = {}
    # Rollup throughput: 200,000 events absorbed incrementally.
    tenant = bench_tenant("rollup-bench")
    generate_events(tenant.pk, 200_000, month_start(timezone.now()), rolled_up=False)
    t0 = time.perf_counter()
    rolled = rollup_pending_usage().events
    out["rollup_events_per_s"] = rolled / (time.perf_counter() - t0)

    settings_hosts = {"HTTP_HOST": "localhost"}
    for size in sizes:
        tenant = bench_tenant(f"reports-{size}")
        UsageEvent.objects.filter(tenant=tenant).delete()
        UsageHourly.objects.filter(tenant=tenant).delete()
        UsageDaily.objects.filter(tenant=tenant).delete()
        start = month_start(timezone.now())
        t0 = time.perf_counter()
        generate_events(tenant.pk, size, start, rolled_up=True)
        build_rollups_in_sql(tenant.pk)
        generate_events_tail(tenant.pk, start)
        setup_s = time.perf_counter() - t0
        _, raw = api_key_create(tenant=tenant, scopes=["billing"])
        client = Client()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", **settings_hosts}
        out[size] = {
            "setup_s": setup_s,
            "usage_ms": time_get(client, "/v1/usage?group_by=meter,model,day", headers),
            "upcoming_ms": time_get(client, "/v1/invoices/upcoming", headers),
            "events": UsageEvent.objects.filter(tenant=tenant).count(),
        }
    print(json.dumps({"vendor": connection.vendor, **{str(k): v for k, v in out.items()}}))


def generate_events_tail(tenant_id: str, start) -> None:
    from django.utils import timezone

    from billing.services import usage_record

    now = timezone.now()
    for i in range(1000):
        usage_record(
            tenant=tenant_id,
            meter="predictions",
            quantity=1,
            idempotency_key=f"tail-{i}",
            occurred_at=now,
            dimensions={"price_tier": "light", "model": "mdl_a"},
        )


# --- driver ---------------------------------------------------------------------------------------


def child(env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.exit(out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(env: dict) -> str:
    return child(env, "--prepare")["tenant_id"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres")
    parser.add_argument("--redis")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--events", default="1000000,10000000")
    parser.add_argument("--record-worker", nargs=4)
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--drain", action="store_true")
    parser.add_argument(
        "--drain-cpu",
        type=int,
        metavar="LINES",
        help="only the CPU of one inbox drain of LINES predictions' lines (SQLite), then stop",
    )
    parser.add_argument("--reports", action="store_true")
    parser.add_argument("--drain-cpu-child", type=int)
    parser.add_argument("--skip-recording", action="store_true", help="only the reports part")
    parser.add_argument("--skip-reports", action="store_true", help="only the recording part")
    args = parser.parse_args()
    if args.record_worker:
        tenant_id, calls, start_at, prefix = args.record_worker
        record_worker(tenant_id, int(calls), float(start_at), prefix)
        return
    if args.prepare:
        setup_django()
        if os.environ.get("BENCH_FRESH_PG"):
            from django.db import connection

            with connection.cursor() as c:
                c.execute("TRUNCATE billing_usageevent, billing_usagehourly, billing_usagedaily")
        print(json.dumps({"tenant_id": bench_tenant("metering-bench").pk}))
        return
    if args.drain:
        setup_django()
        print(json.dumps({"drain_per_s": drain_throughput(os.environ["MAAS_USAGE_SINK"])}))
        return
    if args.drain_cpu_child:
        setup_django()
        print(json.dumps(drain_cpu(args.drain_cpu_child)))
        return
    if args.reports:
        reports_worker([int(s) for s in args.events.split(",")])
        return

    tmp = tempfile.mkdtemp(prefix="maas-metering-")
    base = {**os.environ, "MAAS_DATA_DIR": tmp, "PYTHONPATH": ROOT}
    if args.drain_cpu:
        env = {**base, "DATABASE_URL": "", "REDIS_URL": "", "MAAS_USAGE_SINK": "inbox"}
        r = child(env, "--drain-cpu-child", str(args.drain_cpu))
        print("| inbox lines | drain CPU ms | process_usage CPU ms | µs per line |")
        print("|---:|---:|---:|---:|")
        per_line = r["drain_ms"] * 1000 / args.drain_cpu
        print(
            f"| {args.drain_cpu:,} | {r['drain_ms']:.1f} | {r['process_usage_ms']:.1f} "
            f"| {per_line:.2f} |"
        )
        return
    backends = [
        (
            "SQLite",
            {**base, "DATABASE_URL": "", "REDIS_URL": "", "MAAS_USAGE_SINK": "database"},
            None,
        ),
        (
            "SQLite + usage inbox",
            {**base, "DATABASE_URL": "", "REDIS_URL": "", "MAAS_USAGE_SINK": "inbox"},
            "inbox",
        ),
    ]
    if args.postgres:
        pg = {
            **base,
            "DATABASE_URL": args.postgres,
            "REDIS_URL": "",
            "MAAS_USAGE_SINK": "database",
            "BENCH_FRESH_PG": "1",
        }
        backends.append(("PostgreSQL", pg, None))
        if args.redis:
            backends.append(
                (
                    "PostgreSQL + Redis stream",
                    {**pg, "REDIS_URL": args.redis, "MAAS_USAGE_SINK": "stream"},
                    "stream",
                )
            )

    print(f"usage_record: {args.calls} calls per process, after 200 warm-up calls\n")
    print(
        f"| {'backend / sink':<28} | {'procs':>5} | {'calls/s':>9} | {'p50 µs':>8} | {'p99 µs':>8} |"
    )
    print(f"|{'-' * 30}|{'-' * 7}|{'-' * 11}|{'-' * 10}|{'-' * 10}|")
    drains = {}
    for name, env, sink in [] if args.skip_recording else backends:
        tenant_id = prepare(env)
        for procs in (1, 2):
            r = run_recorders(
                env, tenant_id, procs, args.calls, f"{name[:2]}{procs}{time.time_ns()}"
            )
            print(
                f"| {name:<28} | {procs:>5} | {r['per_second']:>9,.0f} | {r['p50_us']:>8,.0f} | {r['p99_us']:>8,.0f} |"
            )
        if sink:
            drains[name] = child(env, "--drain")["drain_per_s"]
    for name, rate in drains.items():
        print(f"\n{name}: drained into the events table at {rate:,.0f} events/s")

    if args.skip_reports:
        return
    print(
        "\nreports over many events of one tenant (median of 15 requests, full stack, in process)\n"
    )
    print(
        f"| {'backend':<12} | {'events':>11} | {'GET /v1/usage ms':>16} | {'upcoming ms':>11} | {'setup s':>7} |"
    )
    print(f"|{'-' * 14}|{'-' * 13}|{'-' * 18}|{'-' * 13}|{'-' * 9}|")
    for name, env, sink in backends:
        if sink:  # the reports read the same tables whatever the sink
            continue
        r = child(env, "--reports", "--events", args.events)
        for size in args.events.split(","):
            row = r[size]
            print(
                f"| {name:<12} | {row['events']:>11,} | {row['usage_ms']:>16.1f} | {row['upcoming_ms']:>11.1f} | {row['setup_s']:>7.0f} |"
            )
        print(f"| {name:<12} | rollups absorb {r['rollup_events_per_s']:,.0f} events/s |")


if __name__ == "__main__":
    main()
