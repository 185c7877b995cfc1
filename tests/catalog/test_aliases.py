"""Model aliases: PUT/DELETE /v1/models/{id}/aliases/{alias}, resolved by predict, explain and
batch jobs, every move in the audit trail."""

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.urls import reverse

from catalog.models import ModelAliasMove
from inference.models import InferenceJob
from tests.factories import ApiKeyFactory
from tests.helpers import assert_error
from tests.inference.test_explain import rows_of, trained
from tests.training.conftest import make_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(api, tenant, cancer_csv):
    """A model with v1 (logistic regression) and v2 (a forest), and a few rows for it."""
    cancer = make_dataset(tenant, cancer_csv, "cancer.csv")
    first = trained(api, cancer, "diagnosis", "logistic_regression")
    api.put(f"/v1/models/{first.model_id}/aliases/production", {"version": 1}, format="json")
    second = trained(api, cancer, "diagnosis", "random_forest_classifier", n_estimators=10)
    assert second.model_id == first.model_id and second.model_version == 2
    return first.model_id, rows_of(cancer_csv, first.features, 3), cancer


def predict(api, model_id, rows, version):
    return api.post(
        f"/v1/models/{model_id}/predict", {"inputs": rows, "version": version}, format="json"
    )


def test_an_alias_holds_its_version_until_moved(api, two_versions, api_key):
    model_id, rows, _ = two_versions
    assert predict(api, model_id, rows, "production").json()["version"] == 1
    assert predict(api, model_id, rows, "latest").json()["version"] == 2
    assert predict(api, model_id, rows, None).json()["version"] == 2
    explained = api.post(
        f"/v1/models/{model_id}/explain", {"inputs": rows, "version": "production"}, format="json"
    )
    assert explained.json()["version"] == 1 and explained.json()["method"] == "linear"

    moved = api.put(f"/v1/models/{model_id}/aliases/production", {"version": 2}, format="json")
    assert moved.status_code == 200
    body = moved.json()
    assert {k: body[k] for k in ("object", "model", "alias", "version")} == {
        "object": "model_alias",
        "model": model_id,
        "alias": "production",
        "version": 2,
    }
    assert body["updated_at"]
    assert predict(api, model_id, rows, "production").json()["version"] == 2
    api.put(f"/v1/models/{model_id}/aliases/staging", {"version": 1}, format="json")
    model = api.get(f"/v1/models/{model_id}").json()
    assert model["aliases"] == {"production": 2, "staging": 1}
    assert api.get("/v1/models").json()["data"][0]["aliases"] == {"production": 2, "staging": 1}

    removed = api.delete(f"/v1/models/{model_id}/aliases/staging")
    assert removed.status_code == 200 and removed.json()["deleted"] is True
    error = assert_error(predict(api, model_id, rows, "staging"), 404, "not_found_error")
    assert error["param"] == "version" and "PUT /v1/models/" in error["message"]
    assert_error(api.delete(f"/v1/models/{model_id}/aliases/staging"), 404, "not_found_error")

    moves = ModelAliasMove.objects.filter(model_id=model_id).order_by("id")
    assert [(m.alias, m.from_version, m.to_version, m.actor) for m in moves] == [
        ("production", None, 1, api_key.pk),
        ("production", 1, 2, api_key.pk),
        ("staging", None, 1, api_key.pk),
        ("staging", 1, None, api_key.pk),
    ]
    # Setting an alias to the version it has is no move.
    api.put(f"/v1/models/{model_id}/aliases/production", {"version": 2}, format="json")
    assert ModelAliasMove.objects.filter(model_id=model_id).count() == 4


def test_a_batch_job_keeps_the_version_its_alias_had(api, two_versions):
    model_id, _, dataset = two_versions
    created = api.post(
        "/v1/inference-jobs",
        {"model": model_id, "dataset": dataset.pk, "version": "production"},
        format="json",
    )
    assert created.status_code == 202, created.json()
    assert created.json()["version"] == 1
    api.put(f"/v1/models/{model_id}/aliases/production", {"version": 2}, format="json")
    assert InferenceJob.objects.get(pk=created.json()["id"]).version == 1
    error = assert_error(
        api.post(
            "/v1/inference-jobs",
            {"model": model_id, "dataset": dataset.pk, "version": "nope"},
            format="json",
        ),
        404,
        "not_found_error",
    )
    assert error["param"] == "version"


@pytest.mark.parametrize(
    ("alias", "body", "status", "param"),
    [
        ("latest", {"version": 1}, 400, "alias"),
        ("Production", {"version": 1}, 400, "alias"),
        ("9lives", {"version": 1}, 400, "alias"),
        ("a" * 33, {"version": 1}, 400, "alias"),
        ("prod%00", {"version": 1}, 400, "alias"),
        ("prod", {"version": 3}, 404, "version"),
        ("prod", {"version": "1"}, 400, "version"),
        ("prod", {}, 400, "version"),
    ],
)
def test_bad_alias_requests_name_what_to_change(api, two_versions, alias, body, status, param):
    model_id, _, _ = two_versions
    answer = api.put(f"/v1/models/{model_id}/aliases/{alias}", body, format="json")
    error = assert_error(
        answer, status, "invalid_request_error" if status == 400 else "not_found_error"
    )
    assert error["param"] == param


@pytest.mark.parametrize("version", ["Prod", "", 0, True, 1.5, ["production"]])
def test_predict_refuses_a_version_that_is_neither(api, two_versions, version):
    model_id, rows, _ = two_versions
    error = assert_error(predict(api, model_id, rows, version), 400, "invalid_request_error")
    assert error["param"] == "version"


def test_scopes_and_walls(api, two_versions, tenant, other_tenant, client_for):
    model_id, _, _ = two_versions
    reader = client_for(ApiKeyFactory(tenant=tenant, scopes=["read"]))
    put = reader.put(f"/v1/models/{model_id}/aliases/prod", {"version": 1}, format="json")
    assert_error(put, 403, "permission_error")
    other = client_for(ApiKeyFactory(tenant=other_tenant))
    put = other.put(f"/v1/models/{model_id}/aliases/prod", {"version": 1}, format="json")
    assert_error(put, 404, "not_found_error")
    assert_error(other.delete(f"/v1/models/{model_id}/aliases/production"), 404, "not_found_error")
    assert api.get(f"/v1/models/{model_id}").json()["aliases"] == {"production": 1}


def test_admin_shows_the_audit_trail_and_the_evaluation(api, client, two_versions):
    model_id, _, _ = two_versions
    api.put(f"/v1/models/{model_id}/aliases/production", {"version": 2}, format="json")
    client.force_login(
        User.objects.create_user("op", password="pw", is_staff=True, is_superuser=True)
    )
    page = client.get(reverse("admin:catalog_model_change", args=[quote(model_id)]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "audit trail" in text and "production" in text
    from catalog.models import ModelVersion

    version = ModelVersion.objects.get(model_id=model_id, version=2)
    page = client.get(reverse("admin:catalog_modelversion_change", args=[version.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'class="maas-confusion"' in text and "benign" in text and "mean_radius" in text
    assert client.get(reverse("admin:catalog_modelaliasmove_changelist")).status_code == 200
