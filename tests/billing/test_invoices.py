import random
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from freezegun import freeze_time

from billing.invoicing import compute_invoice
from billing.models import Invoice, InvoiceLine, PendingAdjustment
from billing.rollups import rollup_pending_usage
from billing.selectors import invoice_upcoming
from billing.tasks import close_invoices
from tests.billing.conftest import record

pytestmark = pytest.mark.django_db

FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _database_sink(settings):
    settings.MAAS_USAGE_SINK = "database"


def february_usage(tenant):
    at = datetime(2026, 2, 14, 12, tzinfo=UTC)
    record(tenant, "compute.cpu_seconds", D("200.25"), at=at, job="trj_1")
    record(tenant, "compute.cpu_seconds", D("50.25"), at=at.replace(day=20), job="trj_2")
    record(tenant, "data.ingested_bytes", 2_500_000_000, at=at)
    record(tenant, "predictions", 1500, at=at, price_tier="light", model="mdl_a")
    record(tenant, "predictions", 4000, at=at, price_tier="standard", model="mdl_b")
    record(tenant, "predictions", 8000, at=at.replace(day=27), price_tier="standard", model="mdl_b")
    record(tenant, "predictions", 3, at=at, price_tier="heavy", model="mdl_c")


# The February invoice, by hand, with the test price book (tests/billing/conftest.py):
EXPECTED_FEBRUARY = [
    # meter, tier, quantity, amount, calculation
    ("compute.cpu_seconds", "", "250.5", "0.15", "(250.5 - 100 allowance) x 0.001 = 0.1505"),
    ("data.ingested_bytes", "", "2500000000", "2.50", "2.5e9 x 0.000000001 = 2.5"),
    ("predictions", "light", "1500", "0.05", "(1500 - 1000) x 0.0001 = 0.05"),
    ("predictions", "standard", "12000", "12.00", "10000 x 0.001 + (2000 x 0.0005 + 1 flat) = 12"),
    ("predictions", "heavy", "3", "0.03", "3 x 0.01 = 0.03"),
]
EXPECTED_FEBRUARY_SUBTOTAL = D("14.73")  # 0.15 + 2.50 + 0.05 + 12.00 + 0.03


def test_invoice_lines_match_the_hand_calculation(billed_tenant):
    february_usage(billed_tenant)
    draft = compute_invoice(billed_tenant, FEB)
    got = [(line.meter, line.price_tier, line.quantity, line.amount) for line in draft.lines]
    want = [(m, t, D(q), D(a)) for m, t, q, a, _ in EXPECTED_FEBRUARY]
    assert got == want
    assert draft.subtotal == draft.total == EXPECTED_FEBRUARY_SUBTOTAL


def test_the_upcoming_invoice_equals_the_finalized_one(billed_tenant):
    with freeze_time("2026-02-28 23:00:00"):
        february_usage(billed_tenant)
        rollup_pending_usage()
        upcoming = invoice_upcoming(tenant=billed_tenant)
    with freeze_time("2026-03-01 01:30:00"):
        close_invoices()
    invoice = Invoice.objects.get(tenant=billed_tenant, period_start=FEB)
    assert invoice.status == "open" and invoice.finalized_at is not None
    stored = [
        (line.meter, line.price_tier, line.quantity, line.unit_amount, line.amount)
        for line in invoice.lines.all()
    ]
    preview = [
        (line.meter, line.price_tier, line.quantity, line.unit_amount, line.amount)
        for line in upcoming.lines
    ]
    assert stored == preview and invoice.total == upcoming.total == EXPECTED_FEBRUARY_SUBTOTAL


def test_closing_waits_for_the_grace_period_and_runs_once(billed_tenant, settings):
    settings.MAAS_INVOICE_GRACE_SECONDS = 3600
    february_usage(billed_tenant)
    with freeze_time("2026-03-01 00:30:00"):
        close_invoices()
    assert not Invoice.objects.filter(period_start=FEB).exists()
    assert Invoice.objects.filter(period_start=datetime(2026, 1, 1, tzinfo=UTC)).exists()
    with freeze_time("2026-03-01 01:00:01"):
        close_invoices()
        close_invoices()
    assert Invoice.objects.filter(tenant=billed_tenant, period_start=FEB).count() == 1


def test_late_usage_becomes_an_adjustment_line_on_the_next_invoice(billed_tenant):
    february_usage(billed_tenant)
    with freeze_time("2026-03-01 02:00:00"):
        close_invoices()
    february = Invoice.objects.get(tenant=billed_tenant, period_start=FEB)
    lines_before = list(february.lines.values_list("quantity", "amount"))
    with freeze_time("2026-03-05 10:00:00"):
        late_at = datetime(2026, 2, 27, 9, tzinfo=UTC)
        record(billed_tenant, "predictions", 1000, at=late_at, price_tier="standard")  # late
        record(
            billed_tenant,
            "predictions",
            20,
            at=datetime(2026, 3, 4, tzinfo=UTC),
            price_tier="heavy",
        )
        rollup_pending_usage()
        assert PendingAdjustment.objects.filter(invoice=february).exists()
        upcoming = invoice_upcoming(tenant=billed_tenant)
    adjustment = [line for line in upcoming.lines if line.kind == "adjustment"]
    # 13000 standard predictions cost 10 + (3000 x 0.0005 + 1) = 12.50; 12.00 was billed.
    assert [(line.quantity, line.amount, line.adjusts) for line in adjustment] == [
        (D(1000), D("0.50"), february)
    ]
    assert "Late usage for 2026-02" in adjustment[0].description
    march_usage = [
        (line.meter, line.price_tier, line.amount)
        for line in upcoming.lines
        if line.kind == "usage"
    ]
    assert march_usage == [("predictions", "heavy", D("0.20"))]  # 20 x 0.01
    assert list(february.lines.values_list("quantity", "amount")) == lines_before  # immutable

    with freeze_time("2026-04-01 02:00:00"):
        close_invoices()
    march = Invoice.objects.get(tenant=billed_tenant, period_start=MAR)
    assert march.total == D("0.70")
    assert march.lines.filter(kind="adjustment", adjusts=february).count() == 1
    assert not PendingAdjustment.objects.exists()
    with freeze_time("2026-04-02 00:00:00"):
        # Already billed late usage is not billed again on the following invoice.
        assert [
            line
            for line in invoice_upcoming(tenant=billed_tenant).lines
            if line.kind == "adjustment"
        ] == []


def test_subtotal_is_always_the_sum_of_rounded_lines(billed_tenant):
    rng = random.Random(7)
    at = datetime(2026, 2, 3, tzinfo=UTC)
    for _ in range(40):
        meter = rng.choice(["compute.cpu_seconds", "data.ingested_bytes", "predictions"])
        quantity = D(rng.randint(0, 10**6)) / (1000 if meter == "compute.cpu_seconds" else 1)
        tier = rng.choice(["light", "standard", "heavy"]) if meter == "predictions" else None
        record(billed_tenant, meter, quantity, at=at, **({"price_tier": tier} if tier else {}))
        draft = compute_invoice(billed_tenant, FEB)
        assert draft.subtotal == sum(line.amount for line in draft.lines)
        assert all(line.amount == line.amount.quantize(D("0.01")) for line in draft.lines)


def test_invoices_over_the_api(billed_tenant, client_for):
    from tests.factories import ApiKeyFactory

    february_usage(billed_tenant)
    with freeze_time("2026-03-01 02:00:00"):
        close_invoices()
    api = client_for(ApiKeyFactory(tenant=billed_tenant, scopes=["billing"]))
    listed = api.get("/v1/invoices").json()["data"]
    assert [i["period_start"] for i in listed] == ["2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"]
    detail = api.get(f"/v1/invoices/{listed[0]['id']}").json()
    assert detail["status"] == "open" and detail["subtotal"] == detail["total"] == "14.73"
    assert detail["currency"] == "usd" and detail["stripe_invoice_id"] is None
    standard = next(line for line in detail["lines"] if line.get("price_tier") == "standard")
    assert standard == {
        "meter": "predictions",
        "description": "Rows predicted, priced by the model's price tier (standard tier)",
        "quantity": "12000",
        "unit_amount": "0.001",
        "amount": "12.00",
        "kind": "usage",
        "price_tier": "standard",
    }
    assert "price_tier" not in detail["lines"][0]
    assert InvoiceLine.objects.filter(invoice_id=detail["id"]).count() == 5
