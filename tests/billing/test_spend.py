from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.core import mail
from freezegun import freeze_time

from billing.models import SpendAlert
from billing.services import usage_process
from billing.spend import spend_check
from tenants.models import Tenant
from tests.billing.conftest import record
from tests.factories import ApiKeyFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

NOW = "2026-02-10 12:00:00"
AT = datetime(2026, 2, 10, 11, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.MAAS_USAGE_SINK = "database"
    settings.ROOT_URLCONF = "tests.billing.urls"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def spend(tenant, heavy_predictions: int) -> None:
    """Heavy predictions cost 0.01 each in the test book."""
    record(tenant, "predictions", heavy_predictions, at=AT, price_tier="heavy")
    usage_process()


@freeze_time(NOW)
def test_402_once_the_cap_is_reached_and_work_resumes_when_raised(billed_tenant, client_for):
    Tenant.objects.filter(pk=billed_tenant.pk).update(spend_limit=D("1.00"))
    api = client_for(ApiKeyFactory(tenant=billed_tenant))
    assert api.post("/v1/_test/paid-work").status_code == 201
    spend(billed_tenant, 99)  # 0.99
    assert api.post("/v1/_test/paid-work").status_code == 201
    spend(billed_tenant, 1)  # 1.00: reached
    error = assert_error(
        api.post("/v1/_test/paid-work"), 402, "spend_limit_error", "spend_limit_reached"
    )
    assert "1.00" in error["message"] and "PATCH /v1/tenant" in error["message"]
    assert api.patch("/v1/tenant", {"spend_limit": "5.00"}, format="json").status_code == 200
    assert api.post("/v1/_test/paid-work").status_code == 201
    assert api.patch("/v1/tenant", {"spend_limit": None}, format="json").status_code == 200
    spend(billed_tenant, 1000)
    assert api.post("/v1/_test/paid-work").status_code == 201


@freeze_time(NOW)
def test_alerts_fire_once_per_threshold_and_period(billed_tenant):
    Tenant.objects.filter(pk=billed_tenant.pk).update(spend_limit=D("10.00"))
    billed_tenant.refresh_from_db()
    spend(billed_tenant, 400)  # 4.00: no alert
    assert not SpendAlert.objects.exists()
    spend(billed_tenant, 100)  # 5.00: 50 %
    spend(billed_tenant, 10)  # 5.10: still 50 %, no second alert
    spend(billed_tenant, 400)  # 9.10: 80 %
    spend(billed_tenant, 200)  # 11.10: 100 %
    spend(billed_tenant, 200)
    assert list(SpendAlert.objects.order_by("threshold").values_list("threshold", flat=True)) == [
        50,
        80,
        100,
    ]
    assert [m.to for m in mail.outbox] == [["b@x.co"]] * 3
    assert "100%" in mail.outbox[-1].subject and "refused" in mail.outbox[-1].body
    assert not spend_check(billed_tenant).allowed


def test_alerts_start_again_next_month(billed_tenant):
    Tenant.objects.filter(pk=billed_tenant.pk).update(spend_limit=D("1.00"))
    billed_tenant.refresh_from_db()
    with freeze_time(NOW):
        spend(billed_tenant, 100)
        assert not spend_check(billed_tenant).allowed
    with freeze_time("2026-03-02 00:00:00"):
        assert spend_check(billed_tenant).allowed  # a new period starts at 0.00
        record(
            billed_tenant,
            "predictions",
            100,
            at=datetime(2026, 3, 1, 12, tzinfo=UTC),
            price_tier="heavy",
        )
        usage_process()
    assert SpendAlert.objects.filter(threshold=100).count() == 2


@freeze_time(NOW)
def test_free_plan_cap_of_zero_allows_the_allowance_only(price_books, client_for):
    from tenants.services import tenant_create

    tenant = tenant_create(name="Hobbyist", plan="free")
    assert tenant.spend_limit == D("0.00")
    record(tenant, "predictions", 10_000, at=AT, price_tier="light")  # within the allowance
    usage_process()
    assert spend_check(tenant).allowed and spend_check(tenant).month_to_date == D("0.00")
    record(tenant, "predictions", 100, at=AT, price_tier="light")  # 100 x 0.0001 = 0.01
    usage_process()
    assert not spend_check(tenant).allowed


@freeze_time(NOW)
def test_spend_check_is_cached_between_refreshes(
    billed_tenant, settings, django_assert_num_queries
):
    settings.MAAS_SPEND_CACHE_SECONDS = 60
    spend_check(billed_tenant)
    with django_assert_num_queries(0):
        for _ in range(100):
            spend_check(billed_tenant)


def admit(tenant, rows: int, price_tier: str = "heavy"):
    """What the admission pipeline does with an admitted prediction's usage."""
    from billing.services import usage_prepare
    from billing.spend import spend_admitted

    usage = usage_prepare(
        tenant=tenant,
        meter="predictions",
        quantity=rows,
        idempotency_key=f"admitted-{next(_admitted)}",
        occurred_at=AT,
        dimensions={"model": "mdl_x", "price_tier": price_tier, "api_key": "key_x"},
    )
    spend_admitted(tenant, usage)
    return usage


_admitted = iter(range(10**9))


@freeze_time(NOW)
def test_what_a_process_admits_counts_at_once_before_any_rollup(billed_tenant, settings):
    settings.MAAS_SPEND_CACHE_SECONDS = 3600  # no refresh during the test: only admissions move
    Tenant.objects.filter(pk=billed_tenant.pk).update(spend_limit=D("1.00"))
    billed_tenant.refresh_from_db()
    spend(billed_tenant, 95)  # 0.95 rolled up
    assert spend_check(billed_tenant).allowed
    admit(billed_tenant, 3)  # 0.98: not rolled up, counted here
    assert spend_check(billed_tenant).month_to_date == D("0.98")
    assert spend_check(billed_tenant).allowed
    admit(billed_tenant, 10)  # one request may cross the cap by itself: 1.08
    check = spend_check(billed_tenant)
    assert check.month_to_date == D("1.08") and not check.allowed


@freeze_time(NOW)
def test_admissions_outlive_a_refresh_that_does_not_show_them_yet(billed_tenant, settings):
    from billing.spend import spend_cache_forget

    Tenant.objects.filter(pk=billed_tenant.pk).update(spend_limit=D("1.00"))
    billed_tenant.refresh_from_db()
    spend(billed_tenant, 50)  # 0.50
    admit(billed_tenant, 60)  # 1.10 here; the rollup has not seen it
    settings.MAAS_SPEND_CACHE_SECONDS = 0  # every check re-reads the status row
    assert spend_check(billed_tenant).month_to_date == D("1.10")
    assert not spend_check(billed_tenant).allowed
    spend(billed_tenant, 100)  # 1.50 rolled up from elsewhere: the larger figure wins
    assert spend_check(billed_tenant).month_to_date == D("1.50")
    spend_cache_forget(billed_tenant.pk)


@freeze_time(NOW)
def test_admissions_are_priced_past_allowances_and_by_tier(price_books):
    from tenants.services import tenant_create

    tenant = tenant_create(name="Hobbyist", plan="free")  # cap 0.00 beyond the allowances
    admit(tenant, 9_999, price_tier="light")  # the light allowance is 10,000
    assert spend_check(tenant).allowed and spend_check(tenant).month_to_date == D("0.00")
    admit(tenant, 1, price_tier="light")
    assert spend_check(tenant).allowed  # exactly the allowance: still nothing charged
    admit(tenant, 50, price_tier="light")  # 50 x 0.0001 = 0.005, rounded half-even: 0.00
    assert spend_check(tenant).month_to_date == D("0.00")
    admit(tenant, 100, price_tier="light")  # 150 x 0.0001 = 0.015 -> 0.02
    assert spend_check(tenant).month_to_date == D("0.02")
    assert not spend_check(tenant).allowed


def test_a_tenant_without_a_limit_costs_the_hot_path_no_query(
    billed_tenant, django_assert_num_queries
):
    assert billed_tenant.spend_limit is None
    with django_assert_num_queries(0):
        admit(billed_tenant, 10)
