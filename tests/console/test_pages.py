"""Every console page renders the member's data; actions go through the services (and
admission), and what the console shows agrees with what the API answers."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.services import usage_process, usage_record
from tenants.models import ApiKey, Membership
from tests.factories import (
    DatasetFactory,
    InferenceJobFactory,
    InvoiceFactory,
    ModelVersionFactory,
    TrainingJobFactory,
)

pytestmark = pytest.mark.django_db

EVALUATION = {
    "validation": {
        "confusion_matrix": {"labels": ["no", "yes"], "matrix": [[40, 2], [3, 55]]},
    },
    "feature_importance": [
        {"feature": "tenure", "importance": 0.21, "std": 0.01},
        {"feature": "plan", "importance": -0.01, "std": 0.01},
    ],
}


def month_of_usage(tenant, models: list[str], days: int = 30) -> None:
    """Predictions of each model on each of the last `days` days, rolled up."""
    now = timezone.now()
    for day in range(days):
        for model in models:
            usage_record(
                tenant=tenant,
                meter="predictions",
                quantity=5000 + day,
                idempotency_key=f"{model}:{day}",
                occurred_at=now - timedelta(days=day),
                dimensions={"model": model, "price_tier": "light", "api_key": "key_x"},
            )
    usage_process()


@pytest.fixture
def stocked(tenant, price_books):
    versions = [
        ModelVersionFactory(
            model__tenant=tenant,
            metrics={"accuracy": 0.95},
            evaluation=EVALUATION,
            signature={"inputs": [{"name": "tenure", "dtype": "number"}], "target": "churn"},
        )
        for _ in range(3)
    ]
    month_of_usage(tenant, [v.model_id for v in versions], days=5)
    DatasetFactory(tenant=tenant)
    TrainingJobFactory(tenant=tenant, status="running", progress=0.4)
    TrainingJobFactory(
        tenant=tenant,
        status="failed",
        error_message="The target has one class.",
        finished_at=timezone.now(),
    )
    InferenceJobFactory(tenant=tenant)
    InvoiceFactory(tenant=tenant)
    return versions


def test_every_page_renders(stocked, tenant, console_for):
    owner = console_for(tenant)
    dataset = tenant.datasets.first()
    pages = [
        reverse("console:overview"),
        reverse("console:keys"),
        reverse("console:datasets"),
        reverse("console:dataset", kwargs={"id": dataset.pk}),
        reverse("console:training"),
        reverse("console:training_job", kwargs={"id": tenant.training_jobs.first().pk}),
        reverse("console:models"),
        reverse("console:model", kwargs={"id": stocked[0].model_id}),
        reverse("console:batch"),
        reverse("console:batch_job", kwargs={"id": tenant.inference_jobs.first().pk}),
        reverse("console:usage"),
        reverse("console:invoices"),
        reverse("console:invoice", kwargs={"id": tenant.invoices.first().pk}),
        reverse("console:settings"),
    ]
    for url in pages:
        response = owner.get(url)
        assert response.status_code == 200, url
        assert tenant.name in response.content.decode(), url


def test_the_model_page_shows_the_confusion_matrix_and_importances(stocked, tenant, console_for):
    page = console_for(tenant).get(reverse("console:model", kwargs={"id": stocked[0].model_id}))
    html = page.content.decode()
    assert 'data-testid="confusion-matrix"' in html
    assert "<td>55</td>" in html and "tenure" in html and "Playground" in html


def test_the_overview_issues_a_bounded_number_of_queries(
    stocked, tenant, console_for, django_assert_max_num_queries
):
    owner = console_for(tenant)
    owner.get(reverse("console:overview"))  # sessions, caches
    month_of_usage(tenant, [f"mdl_{i}" for i in range(20)], days=3)
    with django_assert_max_num_queries(20):
        response = owner.get(reverse("console:overview"))
    assert response.status_code == 200


def test_usage_page_and_csv_agree_with_the_api(stocked, tenant, console_for, api):
    owner = console_for(tenant)
    page = owner.get(reverse("console:usage")).content.decode()
    rows = api.get("/v1/usage", {"group_by": "meter,model"}).json()["data"]
    assert rows
    for row in rows:
        assert row["model"] in page
    csv_console = owner.get(reverse("console:usage_csv"), {"group_by": "day,model"})
    csv_api = api.get("/v1/usage.csv", {"group_by": "day,model"})
    assert csv_console.status_code == 200
    assert csv_console.content == csv_api.content


def test_the_upcoming_invoice_pdf_names_the_apis_total(stocked, tenant, console_for, api):
    total = api.get("/v1/invoices/upcoming").json()["total"]
    assert Decimal(total) > 0
    pdf = console_for(tenant).get(reverse("console:invoice_upcoming_pdf"))
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"{total} USD" in text


def test_a_new_key_is_shown_once_and_works(tenant, console_for, client_for):
    owner = console_for(tenant, role="admin")
    created = owner.post(reverse("console:keys"), {"name": "ci", "scopes": ["read"]})
    assert created.status_code == 302
    first = owner.get(reverse("console:keys")).content.decode()
    key = ApiKey.objects.get(tenant=tenant, name="ci")
    assert key.scopes == ["read"]
    secret = first.split('data-testid="new-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("mk_")
    assert secret not in owner.get(reverse("console:keys")).content.decode()
    assert client_for(secret).get("/v1/datasets").status_code == 200
    owner.post(reverse("console:key_revoke", kwargs={"id": key.pk}))
    assert client_for(secret).get("/v1/datasets").status_code == 401


def test_promoting_an_alias_records_the_member(stocked, tenant, console_for, api):
    owner = console_for(tenant, role="developer")
    model_id = stocked[0].model_id
    owner.post(
        reverse("console:model_alias", kwargs={"id": model_id}),
        {"alias": "production", "version": "1"},
    )
    assert api.get(f"/v1/models/{model_id}").json()["aliases"] == {"production": 1}
    page = owner.get(reverse("console:model", kwargs={"id": model_id})).content.decode()
    assert owner.member.pk in page  # the move's actor: the member, as a key's id would be


def test_a_bad_alias_name_is_said_plainly(stocked, tenant, console_for):
    owner = console_for(tenant)
    model_id = stocked[0].model_id
    response = owner.post(
        reverse("console:model_alias", kwargs={"id": model_id}),
        {"alias": "Bad Name!", "version": "1"},
        follow=True,
    )
    assert "alias" in response.content.decode().lower()
    assert "error" in response.content.decode()


def test_the_spend_cap_is_checked_like_the_api(tenant, console_for):
    admin = console_for(tenant, role="admin")
    response = admin.post(
        reverse("console:settings"), {"do": "spend_limit", "spend_limit": "12.345"}, follow=True
    )
    assert "two places" in response.content.decode()
    admin.post(reverse("console:settings"), {"do": "spend_limit", "spend_limit": "25.50"})
    tenant.refresh_from_db()
    assert tenant.spend_limit == Decimal("25.50")


def test_owners_invite_members_who_set_a_password(tenant, console_for, client):
    owner = console_for(tenant)
    owner.post(
        reverse("console:settings"),
        {"do": "invite", "email": "new@example.com", "role": "viewer"},
    )
    member = Membership.objects.get(tenant=tenant, user__email="new@example.com")
    assert member.role == "viewer"
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/console/" in line)
    path = "/console/" + link.split("/console/", 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {"new_password1": "a long passphrase 42", "new_password2": "a long passphrase 42"},
    )
    signed_in = client.post(
        reverse("console:login"),
        {"username": "new@example.com", "password": "a long passphrase 42"},
    )
    assert signed_in.status_code == 302


def test_an_admin_cannot_manage_members(tenant, console_for):
    admin = console_for(tenant, role="admin")
    response = admin.post(
        reverse("console:settings"), {"do": "invite", "email": "x@example.com"}, follow=True
    )
    assert "Only an owner" in response.content.decode()
    assert not Membership.objects.filter(user__email="x@example.com").exists()


def test_a_keras_jobs_page_draws_its_loss_and_accuracy_per_epoch(tenant, console_for):
    from training.services import event

    job = TrainingJobFactory(tenant=tenant, algorithm="mlp_classifier", status="running")
    for epoch, (loss, accuracy) in enumerate([(0.9, 0.5), (0.6, 0.7), (0.4, 0.8)], start=1):
        event(job, f"epoch {epoch}", loss=loss, val_loss=loss + 0.1, accuracy=accuracy)
    owner = console_for(tenant)
    live = owner.get(reverse("console:training_job", kwargs={"id": job.pk}), {"live": 1})
    html = live.content.decode()
    assert html.count("<polyline") == 3  # loss, val_loss, accuracy
    assert 'hx-trigger="every 1s"' in html  # still running: polled
    job.status, job.progress = "succeeded", 1.0
    job.save()
    done = owner.get(reverse("console:training_job", kwargs={"id": job.pk}), {"live": 1})
    assert "hx-trigger" not in done.content.decode()  # finished: the polling stops


def test_an_image_dataset_shows_thumbnails_and_its_classes(tenant, console_for, api):
    from pathlib import Path

    digits = Path(__file__).resolve().parents[2] / "examples" / "digits.zip"
    with digits.open("rb") as f:
        created = api.post("/v1/datasets", {"file": f}, format="multipart")
    assert created.status_code == 201, created.content
    page = console_for(tenant).get(reverse("console:dataset", kwargs={"id": created.json()["id"]}))
    html = page.content.decode()
    assert html.count('src="data:image/png;base64,') == 12
    assert "an image of class" in html
