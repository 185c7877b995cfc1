"""POST /v1/models/{id}/explain: contributions that add up, for every explainable algorithm."""

import numpy as np
import pytest

from billing.models import UsageEvent
from catalog.models import ModelVersion
from tests.factories import ApiKeyFactory, ModelVersionFactory
from tests.helpers import assert_error
from tests.training.conftest import make_dataset
from tests.training.test_evaluation import planted_csv
from training import services
from training.models import TrainingJob

pytestmark = pytest.mark.django_db


def trained(api, dataset, target: str, algorithm: str, **params) -> TrainingJob:
    answer = api.post(
        "/v1/training-jobs",
        {"dataset": dataset.pk, "target": target, "algorithm": algorithm, "params": params},
        format="json",
    )
    services.training_job_run(job_id=answer.json()["id"])
    job = TrainingJob.objects.get(pk=answer.json()["id"])
    assert job.status == "succeeded", job.error_message
    return job


def rows_of(csv: bytes, features: list[str], n: int) -> list[dict]:
    import io

    import pandas as pd

    frame = pd.read_csv(io.BytesIO(csv))
    return frame[features].head(n).to_dict(orient="records")


def explain(api, model_id: str, rows: list[dict], **extra):
    return api.post(f"/v1/models/{model_id}/explain", {"inputs": rows, **extra}, format="json")


def check_additive(api, job: TrainingJob, rows: list[dict]) -> dict:
    """base_value + sum(contributions) is the output explained, and that output is what
    predict answers (the predicted class's probability, or the value)."""
    answer = explain(api, job.model_id, rows)
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    predicted = api.post(
        f"/v1/models/{job.model_id}/predict", {"inputs": rows}, format="json"
    ).json()
    assert body["predictions"] == predicted["predictions"]  # what predict serves, explained
    n = len(rows)
    assert len(body["explanations"]) == n and set(body["explanations"][0]) == set(rows[0])
    if "probabilities" in predicted:
        classes = predicted["classes"]
        expected = [
            p[classes.index(label)]
            for p, label in zip(predicted["probabilities"], predicted["predictions"], strict=True)
        ]
        base = body["base_value"]
        assert isinstance(base, list) and len(base) == n
    else:
        expected = predicted["predictions"]
        base = [body["base_value"]] * n
    for i in range(n):
        total = base[i] + sum(body["explanations"][i].values())
        assert total == pytest.approx(body["outputs"][i], rel=1e-9)
        assert total == pytest.approx(expected[i], rel=1e-6)
    return body


@pytest.mark.parametrize(
    ("algorithm", "params", "method"),
    [
        ("logistic_regression", {}, "linear"),
        ("random_forest_classifier", {"n_estimators": 30}, "tree_shap"),
        ("gradient_boosting_classifier", {"n_estimators": 30}, "tree_shap"),
    ],
)
def test_classifiers_add_up_on_two_and_three_classes(
    api, tenant, cancer_csv, algorithm, params, method
):
    cancer = make_dataset(tenant, cancer_csv, "cancer.csv")
    job = trained(api, cancer, "diagnosis", algorithm, **params)
    body = check_additive(api, job, rows_of(cancer_csv, job.features, 100))
    assert body["method"] == method

    planted = planted_csv(400)
    three = make_dataset(tenant, planted, "planted.csv")
    job = trained(api, three, "kind", algorithm, **params)
    body = check_additive(api, job, rows_of(planted, job.features, 100))
    # the planted signal explains most of each row's probability, the noise little
    signal = np.mean([abs(e["signal"]) for e in body["explanations"]])
    noise = np.mean([abs(e["noise"]) for e in body["explanations"]])
    assert signal > 3 * noise


@pytest.mark.parametrize(
    ("algorithm", "params"),
    [
        ("linear_regression", {}),
        ("ridge", {}),
        ("random_forest_regressor", {"n_estimators": 20}),
        ("gradient_boosting_regressor", {"n_estimators": 30}),
    ],
)
def test_regressors_add_up(api, tenant, algorithm, params):
    csv = planted_csv(300)
    dataset = make_dataset(tenant, csv)
    job = trained(api, dataset, "signal", algorithm, **params)
    body = check_additive(api, job, rows_of(csv, job.features, 100))
    assert isinstance(body["base_value"], float)
    # a string feature's one-hot columns come back as one contribution
    assert set(body["explanations"][0]) == {"weak", "noise", "color", "kind"}


def test_explanations_are_metered_per_row_and_priced(api, tenant, api_key, cancer_csv, settings):
    settings.MAAS_USAGE_SINK = "database"
    cancer = make_dataset(tenant, cancer_csv, "cancer.csv")
    job = trained(api, cancer, "diagnosis", "logistic_regression")
    rows = rows_of(cancer_csv, job.features, 7)
    assert explain(api, job.model_id, rows).status_code == 200
    event = UsageEvent.objects.get(tenant=tenant, meter="explanations")
    assert event.quantity == 7
    assert event.dimensions == {"model": job.model_id, "api_key": api_key.pk}
    meters = {m["meter"]: m for m in api.get("/v1/pricing").json()["meters"]}
    assert meters["explanations"]["unit"] == "row"
    assert meters["explanations"]["unit_amount"] == "0.0005"


def test_rows_are_checked_as_for_predict(api, tenant, cancer_csv):
    cancer = make_dataset(tenant, cancer_csv, "cancer.csv")
    job = trained(api, cancer, "diagnosis", "logistic_regression")
    row = rows_of(cancer_csv, job.features, 1)[0]
    error = assert_error(
        explain(api, job.model_id, [{**row, "mean_radius": "big"}]), 400, "invalid_request_error"
    )
    assert error["param"] == "inputs[0].mean_radius"
    error = assert_error(explain(api, job.model_id, [row] * 501), 400, "invalid_request_error")
    assert error["param"] == "inputs"
    error = assert_error(explain(api, job.model_id, [row], version=7), 404, "not_found_error")
    assert error["param"] == "version"
    assert explain(api, job.model_id, [row], version=1).status_code == 200


def test_a_network_or_an_old_version_is_409_not_explainable(api, tenant):
    network = ModelVersionFactory(
        model__tenant=tenant, algorithm="mlp_classifier", framework="keras"
    )
    answer = explain(api, network.model_id, [{}])
    error = assert_error(answer, 409, "conflict_error", "model_not_explainable")
    assert "neural network" in error["message"]
    old = ModelVersionFactory(model__tenant=tenant)
    assert (
        "train it again"
        in assert_error(explain(api, old.model_id, [{}]), 409, "conflict_error")["message"]
    )


def test_scope_and_walls(api, tenant, other_tenant, client_for, cancer_csv):
    cancer = make_dataset(tenant, cancer_csv, "cancer.csv")
    job = trained(api, cancer, "diagnosis", "logistic_regression")
    rows = rows_of(cancer_csv, job.features, 1)
    reader = client_for(ApiKeyFactory(tenant=tenant, scopes=["read"]))
    assert_error(explain(reader, job.model_id, rows), 403, "permission_error")
    predictor = client_for(ApiKeyFactory(tenant=tenant, scopes=["predict"]))
    assert explain(predictor, job.model_id, rows).status_code == 200
    other = client_for(ApiKeyFactory(tenant=other_tenant))
    assert_error(explain(other, job.model_id, rows), 404, "not_found_error")
    assert ModelVersion.objects.filter(model_id=job.model_id).count() == 1


def test_spend_cap_and_rate_limit_apply_as_to_predict(api, tenant, cancer_csv, settings):
    from decimal import Decimal

    from django.utils import timezone

    from billing.models import SpendStatus
    from billing.rollups import month_start
    from billing.spend import spend_cache_forget
    from maas.generation import generation_bump

    cancer = make_dataset(tenant, cancer_csv, "cancer.csv")
    job = trained(api, cancer, "diagnosis", "logistic_regression")
    rows = rows_of(cancer_csv, job.features, 1)
    type(tenant).objects.filter(pk=tenant.pk).update(spend_limit=Decimal("1.00"))
    SpendStatus.objects.update_or_create(
        tenant=tenant, defaults={"period_start": month_start(timezone.now()), "amount": 2}
    )
    spend_cache_forget(tenant.pk)
    assert_error(explain(api, job.model_id, rows), 402, "spend_limit_error", "spend_limit_reached")
    type(tenant).objects.filter(pk=tenant.pk).update(spend_limit=None, requests_per_minute=1)
    spend_cache_forget(tenant.pk)
    generation_bump()  # .update() sends no signal; the key's cached tenant is reloaded
    statuses = [explain(api, job.model_id, rows).status_code for _ in range(3)]
    assert 429 in statuses
