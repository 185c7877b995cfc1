"""Usage waiting to be drained into the database, read at each scrape (maas/metrics.py): how
many events, and how old the oldest is (metering lag: a growing age means the drain is down)."""

import time
from collections.abc import Iterator
from datetime import datetime

import orjson
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily, Metric

from billing.inbox import inbox_backlog
from billing.usage import inbox_line_read, usage_tally_key
from maas.redis_calls import redis_client


def _tally_backlog(client) -> tuple[int, float | None]:
    """Events summed in the usage tally (and tallies taken but not yet stored), and the start
    of the oldest minute they were recorded in (Unix seconds)."""
    tally = usage_tally_key()
    names = [tally, *client.smembers(f"{tally}:taken")]
    events, oldest = 0, None
    for name in names:
        for field, value in client.hgetall(name).items():
            if field.startswith(b"#"):
                events += int(value)
                minute = datetime.fromisoformat(orjson.loads(field[1:])[2]).timestamp()
                oldest = minute if oldest is None else min(oldest, minute)
    return events, oldest


def usage_backlog_read() -> Iterator[Metric]:
    waiting, oldest = 0, None  # oldest: Unix seconds of the oldest waiting event
    if settings.MAAS_USAGE_SINK == "stream":
        client = redis_client()
        stream = settings.MAAS_USAGE_STREAM
        waiting = client.xlen(stream)
        first = client.xrange(stream, count=1)
        if first:
            entry_id = first[0][0]
            entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            oldest = int(entry_id.split("-")[0]) / 1000  # stream ids start with their ms
        summed, minute = _tally_backlog(client)
        waiting += summed
        if minute is not None and (oldest is None or minute < oldest):
            oldest = minute
    elif settings.MAAS_USAGE_SINK == "inbox":
        waiting, line = inbox_backlog()
        if line is not None:
            event = inbox_line_read(line)
            at = orjson.loads(event[0])[2] if isinstance(event, tuple) else event["o"]
            oldest = datetime.fromisoformat(at).timestamp()
    yield GaugeMetricFamily(
        "maas_usage_waiting", "Usage events recorded but not yet in the database", value=waiting
    )
    yield GaugeMetricFamily(
        "maas_usage_oldest_waiting_seconds",
        "Age of the oldest usage event waiting to be drained (0: none waiting)",
        value=max(0.0, time.time() - oldest) if oldest is not None else 0.0,
    )
