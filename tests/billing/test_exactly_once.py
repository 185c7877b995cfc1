"""Usage is counted exactly once across processes, retries and a drainer killed midway."""

import subprocess
import sys
import time

import pytest
from django.conf import settings

from billing.models import UsageDaily, UsageEvent
from billing.services import drain_usage_inbox, drain_usage_redis, usage_process
from tests.billing.conftest import events_stored, record
from tests.billing.subprocess_env import ROOT, child_env
from tests.factories import TenantFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="the stream sink needs REDIS_URL")


@pytest.fixture(params=["database", "inbox", pytest.param("stream", marks=needs_redis)])
def sink(request, settings):
    settings.MAAS_USAGE_SINK = request.param
    return request.param


def test_concurrent_duplicates_from_two_processes_count_once(sink):
    tenant = TenantFactory()
    count = 400
    start_at = f"{time.time() + 1.5:.3f}"
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.billing.record_many", tenant.pk, str(count), start_at],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    assert all(child.returncode == 0 for child in children), [o[1][-2000:] for o in outputs]
    said_recorded = [int(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(said_recorded) == count  # each key was "recorded" by exactly one process
    usage_process()
    assert events_stored(tenant=tenant) == count
    assert sum(UsageDaily.objects.filter(tenant=tenant).values_list("quantity", flat=True)) == count


@pytest.fixture(params=["inbox", pytest.param("stream", marks=needs_redis)])
def drained_sink(request, settings):
    settings.MAAS_USAGE_SINK = request.param
    return request.param


@pytest.mark.parametrize("crash_point", ["after_read", "after_commit"])
@pytest.mark.parametrize(
    ("sink", "made_up_keys"),
    [
        ("inbox", True),  # predictions' events: the inbox holds only those
        pytest.param("stream", True, marks=needs_redis, id="stream-tally"),  # summed in Redis
        pytest.param("stream", False, marks=needs_redis, id="stream-own-keys"),  # the stream
    ],
)
def test_a_drainer_killed_midway_loses_nothing_and_counts_nothing_twice(
    settings, sink, made_up_keys, crash_point
):
    settings.MAAS_USAGE_SINK = sink
    tenant = TenantFactory()
    for i in range(300):  # made up: as predictions record theirs; else keys of their own
        record(
            tenant, "predictions", 2, key=f"req-{i}", new_key=made_up_keys, price_tier="standard"
        )
    killed = subprocess.run(
        [sys.executable, "-m", "tests.billing.drain_and_die", sink, crash_point],
        cwd=ROOT,
        env=child_env(DJANGO_SETTINGS_MODULE="maas.settings"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == 137, killed.stderr[-2000:]
    # The drain reads batches of 100; the tally is taken whole, one batch.
    batch = 300 if sink == "stream" and made_up_keys else 100
    assert events_stored(tenant=tenant) == (batch if crash_point == "after_commit" else 0)
    if sink == "stream":  # the next drainer takes over what the dead one held
        drain_usage_redis(claim_idle_ms=0)
        drain_usage_redis(claim_idle_ms=0)
    else:
        drain_usage_inbox()
    assert events_stored(tenant=tenant) == 300
    usage_process()
    assert sum(UsageDaily.objects.filter(tenant=tenant).values_list("quantity", flat=True)) == 600


def test_events_of_a_deleted_tenant_do_not_block_the_drain(drained_sink):
    gone, kept = TenantFactory(), TenantFactory()
    record(gone, "predictions", 1, key="a", new_key=True)
    record(kept, "predictions", 1, key="b", new_key=True)
    gone.delete()
    drain = drain_usage_redis if drained_sink == "stream" else drain_usage_inbox
    assert drain() == 1
    assert list(UsageEvent.objects.values_list("tenant_id", flat=True)) == [kept.pk]
