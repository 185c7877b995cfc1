import time

import pytest

from maas.models import RateLimitCounter
from maas.ratelimit import WINDOW_SECONDS, purge_rate_limit_counters, rate_limit_hit
from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import assert_error, rate_limit_window_ahead

pytestmark = pytest.mark.django_db


def test_responses_carry_rate_limit_headers(api):
    response = api.get("/v1/tenant")
    assert response.headers["X-RateLimit-Limit"] == "6000"
    assert response.headers["X-RateLimit-Remaining"] == "5999"
    assert 1 <= int(response.headers["X-RateLimit-Reset"]) <= WINDOW_SECONDS


def test_over_the_limit_is_429_with_retry_after(client_for):
    tenant = TenantFactory(requests_per_minute=3)
    client = client_for(ApiKeyFactory(tenant=tenant))
    rate_limit_window_ahead()
    remaining = [client.get("/v1/tenant").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    response = client.get("/v1/tenant")
    error = assert_error(response, 429, "rate_limit_error", "rate_limited")
    assert "3 per minute" in error["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW_SECONDS
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Limit"] == "3"


def test_the_limit_is_per_tenant_not_per_key(client_for):
    tenant = TenantFactory(requests_per_minute=2)
    a, b = (client_for(ApiKeyFactory(tenant=tenant)) for _ in range(2))
    rate_limit_window_ahead()
    assert a.get("/v1/tenant").status_code == 200
    assert b.get("/v1/tenant").status_code == 200
    assert a.get("/v1/tenant").status_code == 429
    assert b.get("/v1/tenant").status_code == 429
    other = client_for(ApiKeyFactory(tenant=TenantFactory(requests_per_minute=2)))
    assert other.get("/v1/tenant").status_code == 200


def test_a_new_window_starts_fresh(tenant):
    start = (time.time() // WINDOW_SECONDS + 1) * WINDOW_SECONDS  # the start of a window
    assert rate_limit_hit(tenant.pk, 1, now=start).allowed
    state = rate_limit_hit(tenant.pk, 1, now=start + 59)
    assert not state.allowed and state.reset_seconds == 1
    assert rate_limit_hit(tenant.pk, 1, now=start + 60).allowed


def test_old_windows_are_purged(tenant, settings):
    if settings.REDIS_URL:
        pytest.skip("Redis expires its own counters")
    now = time.time()
    rate_limit_hit(tenant.pk, 10, now=now - 600)
    rate_limit_hit(tenant.pk, 10, now=now)
    assert purge_rate_limit_counters(now=now) == 1


@pytest.fixture
def database_counts(settings, monkeypatch):
    if settings.REDIS_URL:
        pytest.skip("with Redis every request is counted there")
    monkeypatch.setattr("maas.ratelimit._windows", {})


def shared_count(tenant) -> int:
    return sum(
        RateLimitCounter.objects.filter(bucket__startswith=tenant.pk).values_list(
            "count", flat=True
        )
    )


def test_far_from_the_limit_a_process_adds_its_count_once_a_second(tenant, database_counts):
    start = (time.time() // WINDOW_SECONDS + 1) * WINDOW_SECONDS
    states = [rate_limit_hit(tenant.pk, 1000, now=start + i / 100) for i in range(10)]
    assert [s.remaining for s in states] == list(range(999, 989, -1))  # exact for this process
    assert shared_count(tenant) == 1  # only the first hit of the window was written
    rate_limit_hit(tenant.pk, 1000, now=start + 1.5)
    assert shared_count(tenant) == 11


def test_near_the_limit_two_processes_count_exactly(tenant, monkeypatch, database_counts):
    start = (time.time() // WINDOW_SECONDS + 1) * WINDOW_SECONDS
    processes = [{}, {}]  # each process's local windows
    allowed = 0
    for i in range(40):
        monkeypatch.setattr("maas.ratelimit._windows", processes[i % 2])
        allowed += rate_limit_hit(tenant.pk, 20, now=start + i / 1000).allowed
    # Each process syncs once it has used a quarter of what was left: the shared count can run
    # ahead of the limit by at most that, never let more than the limit through plus that.
    assert 20 <= allowed <= 20 + 20 // 4
    assert rate_limit_hit(tenant.pk, 20, now=start + 0.5).allowed is False


def test_with_redis_a_tally_rides_with_the_count_only_when_admitted(tenant, settings):
    if not settings.REDIS_URL:
        pytest.skip("the count carries a tally only with Redis")
    from maas.generation import generation_bump, generation_read
    from maas.ratelimit import TallyEntry, rate_limit_start
    from maas.redis_calls import redis_call

    tally = f"{settings.MAAS_USAGE_STREAM}:tally-test"
    start = (time.time() // WINDOW_SECONDS + 1) * WINDOW_SECONDS
    trusted = generation_read()
    first = rate_limit_start(tenant.pk, 3, now=start)
    state = first.state(TallyEntry(tally, b"admitted", 5), trusted)
    assert state.allowed and state.tallied
    assert first.state(TallyEntry(tally, b"admitted", 7), trusted).tallied  # the same state
    second = rate_limit_start(tenant.pk, 3, now=start + 0.5)
    assert second.state(TallyEntry(tally, b"admitted", 2), trusted).tallied
    stale = rate_limit_start(tenant.pk, 3, now=start + 1)
    generation_bump()
    state = stale.state(TallyEntry(tally, b"trusted an old generation", 1), trusted)
    assert state.allowed and not state.tallied and state.generation != trusted
    over = rate_limit_start(tenant.pk, 3, now=start + 2)
    state = over.state(TallyEntry(tally, b"over the limit", 1), generation_read())
    assert not state.allowed and not state.tallied
    # The sum of the two admitted amounts, and how many amounts it holds.
    assert redis_call("HGETALL", tally) == {b"admitted": b"7", b"#admitted": b"2"}
