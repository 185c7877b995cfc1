"""Seeds the embedded database Schemathesis runs against: a tenant with a key of every scope,
and a logistic regression trained (in this process) on the breast-cancer data, so that reads and
predictions reach real objects. Prints {"api_key", "model", "dataset"} as JSON."""

import io
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402

from billing.models import MeterPrice, PriceBook  # noqa: E402
from billing.price_book_defaults import ensure_default_price_books  # noqa: E402
from catalog.services import dataset_create  # noqa: E402
from tenants.services import api_key_create, tenant_create  # noqa: E402
from training.services import training_job_create, training_job_run  # noqa: E402


def main() -> None:
    ensure_default_price_books(PriceBook, MeterPrice)
    tenant = tenant_create(name="Schemathesis", plan="enterprise", requests_per_minute=10**8)
    frame = load_breast_cancer(as_frame=True).frame.rename(columns=lambda c: c.replace(" ", "_"))
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    upload = SimpleUploadedFile("cancer.csv", buffer.getvalue().encode())
    dataset = dataset_create(tenant=tenant, upload=upload, name="cancer.csv", sha256="0" * 64)
    job = training_job_create(
        tenant=tenant, dataset=dataset.pk, target="target", algorithm="logistic_regression"
    )
    training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    _, key = api_key_create(tenant=tenant, scopes=["read", "write", "predict", "billing", "admin"])
    print(json.dumps({"api_key": key, "model": job.model_id, "dataset": dataset.pk}))


if __name__ == "__main__":
    main()
