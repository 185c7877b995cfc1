import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.urls import reverse

from tests.training.test_training import create, run
from training.models import TrainingJob

pytestmark = pytest.mark.django_db


def test_operator_pages_and_rerun(client, api, tenant, cancer_dataset):
    job = run(
        create(
            api,
            dataset=cancer_dataset.pk,
            target="diagnosis",
            algorithm="logistic_regression",
            model="m",
        ).json()["id"]
    )
    client.force_login(
        User.objects.create_user("op", password="pw", is_staff=True, is_superuser=True)
    )
    response = client.get(reverse("admin:training_trainingjob_change", args=[quote(job.pk)]))
    # Ids go into admin URLs quoted, as the admin's own links do: an id like "trj_3A..." would
    # otherwise be read back as "trj:..." and the page would redirect (it did, once in CI).
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    page = response.content.decode()
    assert "validation metrics" in page and "succeeded" in page
    model_page = client.get(
        reverse("admin:catalog_model_change", args=[quote(job.model_id)])
    ).content.decode()
    assert "logistic_regression" in model_page and "accuracy" in model_page
    assert client.get("/admin/catalog/dataset/").status_code == 200
    client.post("/admin/training/trainingjob/", {"action": "rerun", "_selected_action": [job.pk]})
    rerun = TrainingJob.objects.exclude(pk=job.pk).get()
    assert (
        rerun.status == "queued"
        and rerun.model_name == "m"
        and rerun.dataset_id == cancer_dataset.pk
    )
