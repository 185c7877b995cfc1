from datetime import UTC, datetime

import pytest

from billing.models import UsageDaily, UsageEvent, UsageHourly
from billing.rollups import rebuild_rollups, rollup_pending_usage, usage_rows
from tests.billing.conftest import record

pytestmark = pytest.mark.django_db

T = datetime(2026, 2, 10, 13, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _database_sink(settings):
    settings.MAAS_USAGE_SINK = "database"


def test_rollups_add_each_event_once(tenant):
    for minute in range(3):
        record(tenant, "predictions", 10, at=T.replace(minute=minute), price_tier="light")
    record(tenant, "predictions", 5, at=T.replace(hour=15), price_tier="light")
    record(tenant, "predictions", 7, at=T, price_tier="heavy")
    assert rollup_pending_usage().events == 5
    assert rollup_pending_usage().events == 0
    hourly = {
        (r.bucket.hour, r.dimensions["price_tier"]): r.quantity for r in UsageHourly.objects.all()
    }
    assert hourly == {(13, "light"): 30, (15, "light"): 5, (13, "heavy"): 7}
    daily = {
        r.dimensions["price_tier"]: (r.quantity, r.event_count) for r in UsageDaily.objects.all()
    }
    assert daily == {"light": (35, 4), "heavy": (7, 1)}
    assert not UsageEvent.objects.filter(rolled_up=False).exists()


def test_an_event_committed_late_with_a_lower_id_is_not_skipped(tenant):
    record(tenant, "predictions", 1, at=T, key="a")
    record(tenant, "predictions", 1, at=T, key="b")
    rollup_pending_usage()
    late = UsageEvent.objects.get(idempotency_key="a")
    late.pk, late.idempotency_key, late.rolled_up, late.quantity = 1_000_000, "late", False, 40
    late.save()
    UsageEvent.objects.filter(pk=1_000_000).update(id=0)  # a lower id than any rolled event
    rollup_pending_usage()
    assert UsageDaily.objects.get().quantity == 42


def test_reads_see_rolled_and_pending_events_once(tenant):
    record(tenant, "predictions", 3, at=T, price_tier="light")
    rollup_pending_usage()
    record(tenant, "predictions", 4, at=T, price_tier="light")  # not rolled up yet
    rows = usage_rows(
        tenant_id=tenant.pk,
        start=datetime(2026, 2, 1, tzinfo=UTC),
        end=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert sum(r.quantity for r in rows) == 7


def test_rebuild_gives_what_incremental_rollups_gave(tenant, other_tenant):
    for n in range(20):
        record(
            tenant if n % 3 else other_tenant,
            "compute.cpu_seconds",
            n + 0.5,
            at=T.replace(minute=n),
        )
        if n % 7 == 0:
            rollup_pending_usage()
    rollup_pending_usage()
    before = sorted(
        UsageHourly.objects.values_list("tenant_id", "bucket", "quantity", "event_count")
    )
    assert rebuild_rollups() == 20
    after = sorted(
        UsageHourly.objects.values_list("tenant_id", "bucket", "quantity", "event_count")
    )
    assert before == after
