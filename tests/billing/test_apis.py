import csv
import io
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from freezegun import freeze_time

from billing.invoicing import compute_invoice
from billing.services import usage_process
from tests.billing.conftest import record
from tests.billing.test_invoices import FEB, february_usage
from tests.factories import ApiKeyFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

NOW = "2026-02-28 18:00:00"


@pytest.fixture(autouse=True)
def _database_sink(settings):
    settings.MAAS_USAGE_SINK = "database"


@pytest.fixture
def billing_api(billed_tenant, client_for):
    return client_for(ApiKeyFactory(tenant=billed_tenant, scopes=["billing"]))


@freeze_time(NOW)
def test_usage_by_meter_adds_up_to_the_invoice(billed_tenant, billing_api):
    february_usage(billed_tenant)
    usage_process()
    body = billing_api.get("/v1/usage", {"start": "2026-02-01", "end": "2026-02-28"}).json()
    assert body["currency"] == "usd"
    by_meter = {row["meter"]: row for row in body["data"]}
    assert set(by_meter["predictions"]) == {"meter", "quantity", "amount"}
    assert by_meter["predictions"]["quantity"] == "13503"
    assert by_meter["predictions"]["amount"] == "12.08"  # 0.05 + 12.00 + 0.03 across tiers
    assert by_meter["compute.cpu_seconds"] == {
        "meter": "compute.cpu_seconds",
        "quantity": "250.5",
        "amount": "0.15",
    }
    invoice = compute_invoice(billed_tenant, FEB)
    assert sum(D(r["amount"]) for r in body["data"]) == invoice.subtotal


@freeze_time(NOW)
def test_usage_by_day_prices_each_day_at_the_margin(billed_tenant, billing_api):
    february_usage(billed_tenant)
    usage_process()
    rows = billing_api.get(
        "/v1/usage", {"start": "2026-02-01", "end": "2026-02-28", "group_by": "day,meter"}
    ).json()["data"]
    cpu = [
        (r["day"], r["quantity"], r["amount"]) for r in rows if r["meter"] == "compute.cpu_seconds"
    ]
    # 200.25 s on the 14th is (200.25 - 100) x 0.001 = 0.10025; 50.25 s on the 20th: 0.05025
    assert cpu == [("2026-02-14", "200.25", "0.10"), ("2026-02-20", "50.25", "0.05")]
    standard = [
        (r["day"], r["amount"])
        for r in rows
        if r["meter"] == "predictions" and r["day"] == "2026-02-27"
    ]
    # 8000 more on the 27th take the total from 4000 to 12000: 6000 x 0.001 + 2000 x 0.0005 + 1
    assert standard == [("2026-02-27", "8.00")]


@freeze_time(NOW)
def test_usage_by_model_and_the_range(billed_tenant, billing_api):
    february_usage(billed_tenant)
    record(
        billed_tenant,
        "predictions",
        5,
        at=datetime(2026, 1, 31, 23, tzinfo=UTC),
        price_tier="heavy",
        model="mdl_old",
    )
    usage_process()
    rows = billing_api.get(
        "/v1/usage", {"start": "2026-02-01", "end": "2026-02-28", "group_by": "model"}
    ).json()["data"]
    models = {(r["meter"], r["model"]): r["quantity"] for r in rows}
    assert models[("predictions", "mdl_b")] == "12000" and ("predictions", "mdl_old") not in models
    assert models[("data.ingested_bytes", None)] == "2500000000"
    january = billing_api.get(
        "/v1/usage", {"start": "2026-01-01", "end": "2026-01-31", "group_by": "model"}
    ).json()
    assert january["data"] == [
        {"meter": "predictions", "model": "mdl_old", "quantity": "5", "amount": "0.05"}
    ]


@freeze_time(NOW)
def test_usage_csv(billed_tenant, billing_api):
    february_usage(billed_tenant)
    usage_process()
    response = billing_api.get(
        "/v1/usage.csv",
        {"start": "2026-02-01", "end": "2026-02-28", "group_by": "day"},
        HTTP_ACCEPT="text/csv",
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == ["day", "meter", "quantity", "amount", "currency"]
    json_rows = billing_api.get(
        "/v1/usage", {"start": "2026-02-01", "end": "2026-02-28", "group_by": "day"}
    ).json()["data"]
    assert [(r["day"], r["meter"], r["amount"]) for r in rows] == [
        (r["day"], r["meter"], r["amount"]) for r in json_rows
    ]
    error = billing_api.get("/v1/usage.csv", {"start": "yesterday"})
    assert_error(error, 400, "invalid_request_error")


def test_recorded_usage_shows_in_the_upcoming_invoice_without_a_rollup(billed_tenant, billing_api):
    with freeze_time(NOW):
        record(
            billed_tenant,
            "predictions",
            7,
            at=datetime(2026, 2, 28, 17, tzinfo=UTC),
            price_tier="heavy",
        )
        body = billing_api.get("/v1/invoices/upcoming").json()
    assert body["id"] is None and body["status"] == "draft" and body["total"] == "0.07"
    assert (
        body["period_start"] == "2026-02-01T00:00:00Z"
        and body["period_end"] == "2026-03-01T00:00:00Z"
    )


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"end": "soon"}, "end"),
        ({"start": "2026-02-10", "end": "2026-02-01"}, "end"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "end"),
        ({"group_by": "meter,tenant"}, "group_by"),
        ({"group_by": ""}, "group_by"),
        ({"group_by": "meter,"}, "group_by"),
    ],
)
def test_usage_rejects_bad_queries(billing_api, params, param):
    error = assert_error(billing_api.get("/v1/usage", params), 400, "invalid_request_error")
    assert error["param"] == param


def test_pricing_shows_the_plan(price_books, client_for):
    from tenants.services import tenant_create

    tenant = tenant_create(name="Std", plan="standard")
    body = client_for(ApiKeyFactory(tenant=tenant, scopes=["billing"])).get("/v1/pricing").json()
    assert body["plan"] == "standard" and body["currency"] == "usd"
    meters = {m["meter"]: m for m in body["meters"]}
    assert list(meters) == [
        "compute.cpu_seconds",
        "compute.gpu_seconds",
        "data.ingested_bytes",
        "data.processed_rows",
        "predictions",
        "explanations",
    ]
    assert meters["data.ingested_bytes"]["unit_amount"] == "0.00000000008"
    assert (
        meters["data.ingested_bytes"]["unit"] == "byte"
        and meters["data.ingested_bytes"]["price_tiers"] is None
    )
    standard = meters["predictions"]["price_tiers"]["standard"]
    assert standard["tiers"][0] == {
        "up_to": "1000000",
        "unit_amount": "0.00015",
        "flat_amount": "0",
    }
    assert standard["tiers"][-1]["up_to"] is None and standard["allowance"] == "10000"


def test_billing_endpoints_need_the_billing_scope(billed_tenant, client_for):
    api = client_for(ApiKeyFactory(tenant=billed_tenant, scopes=["read", "write", "predict"]))
    for path in [
        "/v1/usage",
        "/v1/usage.csv",
        "/v1/pricing",
        "/v1/invoices",
        "/v1/invoices/upcoming",
    ]:
        assert_error(api.get(path), 403, "permission_error", "insufficient_scope")
