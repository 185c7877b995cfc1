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


def test_a_cap_binds_across_web_processes_within_a_request_each(serve, settings):
    """The cap just above the month's charges, two web processes, predictions fired at both
    at once: each process counts what it admits at once, so the month ends over the cap by at
    most one request per process (docs/billing.md). Without that, each would admit everything
    for the ~10 s before a rollup reached it."""
    from concurrent.futures import ThreadPoolExecutor
    from decimal import Decimal

    import requests
    from django.utils import timezone

    from billing.invoicing import compute_invoice
    from billing.rollups import month_start
    from tenants.models import Tenant
    from tests.training.conftest import breast_cancer_csv, make_dataset
    from training.services import training_job_create, training_job_run

    settings.MAAS_USAGE_SINK = "database"
    out = StringIO()
    call_command("create_tenant", "Acme", "--plan", "standard", stdout=out)
    created = json.loads(out.getvalue())
    tenant = Tenant.objects.get(pk=created["tenant_id"])
    dataset = make_dataset(tenant, breast_cancer_csv(), "cancer.csv")
    job = training_job_create(
        tenant=tenant, dataset=dataset.pk, target="diagnosis", algorithm="logistic_regression"
    )
    training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    usage_record(  # 10,000 light predictions included, 10,000 more at 0.00008: 0.80
        tenant=tenant.pk,
        meter="predictions",
        quantity=20_000,
        idempotency_key="earlier",
        dimensions={"price_tier": "light", "model": job.model_id},
    )
    usage_process()
    period = month_start(timezone.now())
    before = compute_invoice(tenant, period).total
    cap = before + Decimal("0.01")
    tenant.spend_limit = cap
    tenant.save(update_fields=["spend_limit"])

    url = serve(workers=2, MAAS_USAGE_SINK="database")
    row = {c["name"]: 1.0 for c in dataset.columns if c["name"] != "diagnosis"}
    body = {"inputs": [row] * 1000}  # 1,000 light rows: 0.08 each request past the cap's cent
    per_request = Decimal("0.08")

    def fire(_: int) -> list[int]:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {created['api_key']}"
            return [
                session.post(f"{url}/v1/models/{job.model_id}/predict", json=body).status_code
                for _ in range(10)
            ]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for batch in pool.map(fire, range(8)) for s in batch]
    assert set(statuses) <= {200, 402} and 200 in statuses and 402 in statuses
    usage_process()
    after = compute_invoice(tenant, period).total
    admitted = statuses.count(200)
    assert after == before + admitted * per_request  # every admitted request billed, once
    assert after <= cap + 2 * per_request, (before, cap, after, admitted)
