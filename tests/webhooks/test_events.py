"""Which changes are events, recorded with them (webhooks.services.event_record)."""

import pytest

from tests.inference.test_explain import trained
from tests.training.conftest import make_dataset
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def test_training_a_version_and_moving_an_alias_are_events(api, tenant, cancer_csv):
    cancer = make_dataset(tenant, cancer_csv, "cancer.csv")
    job = trained(api, cancer, "diagnosis", "logistic_regression")
    api.put(f"/v1/models/{job.model_id}/aliases/production", {"version": 1}, format="json")
    api.put(f"/v1/models/{job.model_id}/aliases/production", {"version": 1}, format="json")
    events = list(Event.objects.filter(tenant=tenant).order_by("created_at", "id"))
    assert [e.type for e in events] == [
        "model.version_created",
        "training_job.succeeded",
        "model.alias_updated",  # once: setting an alias to the version it has is no move
    ]
    version, finished, alias = (e.data["object"] for e in events)
    assert version["object"] == "model_version" and version["version"] == 1
    assert finished["id"] == job.pk and finished["model_version"] == 1
    assert alias == {**alias, "alias": "production", "version": 1, "model": job.model_id}
    listed = api.get("/v1/events").json()["data"]
    assert [e["type"] for e in listed] == [e.type for e in reversed(events)]


def test_finalizing_an_invoice_is_an_event(tenant, price_books):
    from datetime import UTC, datetime

    from billing.invoicing import invoice_finalize

    invoice = invoice_finalize(tenant=tenant, period_start=datetime(2026, 1, 1, tzinfo=UTC))
    invoice_finalize(tenant=tenant, period_start=datetime(2026, 1, 1, tzinfo=UTC))  # again
    event = Event.objects.get(tenant=tenant)
    assert event.type == "invoice.finalized"
    assert event.data["object"]["id"] == invoice.pk and event.data["object"]["status"] == "open"
