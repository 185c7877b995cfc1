"""Billing as a tenant sees it over HTTP: usage, the upcoming invoice, pricing, the cap."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from billing.services import usage_process, usage_record

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]


def test_usage_flows_into_reports_and_the_upcoming_invoice(http, settings):
    settings.MAAS_USAGE_SINK = "database"
    out = StringIO()
    call_command("create_tenant", "Acme", "--plan", "standard", stdout=out)
    created = json.loads(out.getvalue())
    api = http(created["api_key"])
    for i in range(3):
        usage_record(
            tenant=created["tenant_id"],
            meter="predictions",
            quantity=10_000,
            idempotency_key=f"batch-{i}",
            dimensions={"price_tier": "standard", "model": "mdl_demo"},
        )
    usage_process()
    usage = api.get("/v1/usage", params={"group_by": "meter,model"}).json()
    assert usage["data"] == [
        {"meter": "predictions", "model": "mdl_demo", "quantity": "30000", "amount": "3.00"}
    ]  # standard plan: 10,000 included, then 20,000 x 0.00015
    upcoming = api.get("/v1/invoices/upcoming").json()
    assert upcoming["total"] == "3.00" and upcoming["lines"][0]["price_tier"] == "standard"
    assert api.get("/v1/pricing").json()["plan"] == "standard"
    assert api.get("/v1/invoices").json() == {"data": [], "next_cursor": None}
    assert api.patch("/v1/tenant", json={"spend_limit": "2.50"}).json()["spend_limit"] == "2.50"
