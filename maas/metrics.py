"""Prometheus metrics, served at GET /metrics (docs/deploy.md "Metrics").

Two kinds:
- counted where they happen, in the process they happen in (requests, predict latency, model
  cache hits and loads): prometheus-client's multiprocess mode, one file per process in
  PROMETHEUS_MULTIPROC_DIR (settings points it at MAAS_METRICS_DIR), summed at each scrape, so
  any gunicorn worker answers for all of them;
- read at each scrape from where the state lives (the database, Redis, the broker): queue
  depth, jobs by kind and status with their durations, usage waiting to be drained, webhook
  deliveries by status. Apps register these readers (`scrape_register`): maas imports no app.
"""

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from maas.errors import error_http_response

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "maas_http_requests",
    "API requests answered, by route (its URL pattern), method and status",
    ["route", "method", "status"],
)
PREDICT_SECONDS = Histogram(
    "maas_predict_duration_seconds",
    "Time to answer POST /v1/models/{id}/predict, admission to answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
MODEL_CACHE = Counter(
    "maas_model_cache",
    "Model lookups of serving processes: `hit` (loaded already) or `load` (read and loaded)",
    ["result"],
)

_request_counters: dict[tuple, Any] = {}

Reader = Callable[[], Iterable[Metric]]
_readers: list[Reader] = []


def scrape_register(reader: Reader) -> None:
    """Adds a function whose metrics are read at each scrape (apps call this in ready())."""
    if reader not in _readers:
        _readers.append(reader)


def request_observe(request: HttpRequest, status: int, started: float) -> None:
    """Counts one answered request (maas.admission.request_close calls it for every request
    of the API, both paths)."""
    route = getattr(request, "maas_route", None)  # the predict path (maas.handlers)
    if route is None:
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match is not None and match.route else "unmatched"
    labels = (route, request.method, status)
    counter = _request_counters.get(labels)
    if counter is None:  # labels() costs ~1.7 µs a call here; a dict lookup a tenth of that
        counter = _request_counters[labels] = REQUESTS.labels(route, request.method, str(status))
    counter.inc()
    if route.endswith("/predict") and request.method == "POST":
        PREDICT_SECONDS.observe(time.perf_counter() - started)


class _ScrapeTime:
    def collect(self) -> Iterator[Metric]:
        for reader in [*_readers, jobs_read, queues_read]:
            try:
                yield from reader()
            except Exception:  # one source down must not hide the others
                log.exception("metrics: %s failed", getattr(reader, "__name__", reader))


def metrics_render() -> bytes:
    counted: CollectorRegistry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    read = CollectorRegistry()
    read.register(_ScrapeTime())
    return generate_latest(counted) + generate_latest(read)


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.MAAS_METRICS_TOKEN
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return error_http_response(
                401,
                "authentication_error",
                "metrics_token_invalid",
                "GET /metrics needs `Authorization: Bearer <MAAS_METRICS_TOKEN>`.",
            )
    return HttpResponse(metrics_render(), content_type=CONTENT_TYPE_LATEST)


# --- read at scrape time: what plumbing itself knows -------------------------------------------


def jobs_read() -> Iterator[Metric]:
    """Jobs of every registered kind by status, and the run time of finished ones."""
    from maas.jobs import FINISHED_STATUSES, job_kinds

    counts = GaugeMetricFamily("maas_jobs", "Jobs by kind and status", labels=["kind", "status"])
    seconds = CounterMetricFamily(
        "maas_job_run_seconds",
        "Total run time (start to finish) of finished jobs, by kind and outcome",
        labels=["kind", "outcome"],
    )
    finished = CounterMetricFamily(
        "maas_jobs_finished", "Finished jobs by kind and outcome", labels=["kind", "outcome"]
    )
    for kind in job_kinds():
        name = kind.model._meta.model_name
        for row in kind.model.objects.values("status").annotate(n=Count("pk")):
            counts.add_metric([name, row["status"]], row["n"])
        run = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        rows = (
            kind.model.objects.filter(status__in=FINISHED_STATUSES, started_at__isnull=False)
            .values("status")
            .annotate(n=Count("pk"), total=Sum(run))
        )
        for row in rows:
            finished.add_metric([name, row["status"]], row["n"])
            total = row["total"]
            seconds.add_metric([name, row["status"]], total.total_seconds() if total else 0.0)
    yield from (counts, finished, seconds)


def queues_read() -> Iterator[Metric]:
    """Messages waiting in each Celery queue (Redis lists, or the filesystem broker's files)."""
    from maas.queues import Queue

    depth = GaugeMetricFamily("maas_queue_depth", "Tasks waiting per queue", labels=["queue"])
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        names = os.listdir(folder) if os.path.isdir(folder) else []
        for queue in Queue:
            depth.add_metric([queue.value], sum(1 for n in names if n.endswith(f".{queue}.msg")))
    elif url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2)
        try:
            # kombu keeps a queue's priorities in lists `q`, `q\x06\x163`, `q\x06\x166`, ...
            for queue in Queue:
                keys = [queue.value, *(f"{queue}\x06\x16{p}" for p in range(1, 10))]
                pipe = client.pipeline()
                for key in keys:
                    pipe.llen(key)
                depth.add_metric([queue.value], sum(pipe.execute()))
        finally:
            client.close()
    yield depth
