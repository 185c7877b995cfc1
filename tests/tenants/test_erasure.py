"""`manage.py erase_tenant`: a tenant's data goes (rows and files), its accounting stays, and
nothing of another tenant is touched."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.models import UsageEvent
from catalog.models import Dataset, Model, ModelVersion
from inference.batch import inference_job_run
from inference.models import InferenceJob
from tenants.models import ApiKey, Tenant
from tests.factories import (
    ApiKeyFactory,
    EventFactory,
    InvoiceFactory,
    TrainingJobFactory,
    WebhookEndpointFactory,
)
from tests.training.conftest import make_dataset
from tests.training.test_training import create, run
from training.models import TrainingJob
from webhooks.models import Event, WebhookEndpoint

pytestmark = pytest.mark.django_db


def files_of(settings, tenant_id: str) -> list:
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file() and tenant_id in str(p)]


def populate(api, tenant, csv: bytes) -> None:
    """A dataset, a trained model (artifacts), a finished batch job (results), an endpoint and
    an event, and an invoice."""
    dataset = make_dataset(tenant, csv, "cancer.csv")
    job = run(
        create(api, dataset=dataset.pk, target="diagnosis", algorithm="logistic_regression").json()[
            "id"
        ]
    )
    assert job.status == "succeeded"
    batch = api.post(
        "/v1/inference-jobs", {"model": job.model_id, "dataset": dataset.pk}, format="json"
    ).json()
    inference_job_run(job_id=batch["id"])
    assert InferenceJob.objects.get(pk=batch["id"]).status == "succeeded"
    WebhookEndpointFactory(tenant=tenant)
    EventFactory(tenant=tenant)
    InvoiceFactory(tenant=tenant)


def erase(tenant_id: str, *flags: str) -> dict:
    out = StringIO()
    call_command("erase_tenant", tenant_id, *flags, stdout=out)
    return json.loads(out.getvalue())


def test_erasure_removes_the_data_and_keeps_the_accounting(
    api, tenant, other_tenant, cancer_csv, settings, client_for
):
    settings.MAAS_USAGE_SINK = "database"
    populate(api, tenant, cancer_csv)
    other_key = ApiKeyFactory(tenant=other_tenant)
    populate(client_for(other_key), other_tenant, cancer_csv)
    assert files_of(settings, tenant.pk) and files_of(settings, other_tenant.pk)
    usage_before = UsageEvent.objects.filter(tenant=tenant).count()

    removed = erase(tenant.pk, "--confirm")["removed"]

    assert removed["datasets"] == 1 and removed["models"] == 1 and removed["model_versions"] == 1
    assert removed["training_jobs"] == 1 and removed["inference_jobs"] == 1
    assert removed["api_keys"] == 1 and removed["webhook_endpoints"] == 1
    assert removed["files"] >= 3  # the table, the model's artifacts, the batch results
    assert files_of(settings, tenant.pk) == []
    for model in (Dataset, Model, TrainingJob, InferenceJob, ApiKey, WebhookEndpoint, Event):
        assert not model.objects.filter(tenant=tenant).exists(), model
    assert not ModelVersion.objects.filter(model__tenant=tenant).exists()
    # Accounting records stay; the tenant stays, suspended, as their owner.
    assert tenant.invoices.count() == 1
    assert UsageEvent.objects.filter(tenant=tenant).count() == usage_before > 0
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.SUSPENDED
    # The other tenant has everything it had.
    assert files_of(settings, other_tenant.pk)
    assert Dataset.objects.filter(tenant=other_tenant).count() == 1
    assert ApiKey.objects.filter(tenant=other_tenant).count() == 1
    assert Tenant.objects.get(pk=other_tenant.pk).status == Tenant.Status.ACTIVE


def test_erasure_asks_for_confirmation_and_waits_for_running_jobs(tenant):
    with pytest.raises(CommandError, match="--confirm"):
        erase(tenant.pk)
    queued = TrainingJobFactory(tenant=tenant)
    with pytest.raises(CommandError, match=f"unfinished jobs \\({queued.pk}\\)"):
        erase(tenant.pk, "--confirm")
    assert TrainingJob.objects.filter(pk=queued.pk).exists()  # nothing was removed
    with pytest.raises(CommandError, match="no tenant"):
        erase("ten_nope", "--confirm")
