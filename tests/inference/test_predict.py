import numpy as np
import pytest

from billing.models import UsageEvent
from catalog.models import Model, ModelVersion
from inference.runtime import cache_clear, runtime_for
from maas.generation import generation_bump
from tests.factories import ApiKeyFactory
from tests.helpers import assert_error
from tests.training.test_training import create, run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache_clear()
    yield
    cache_clear()


@pytest.fixture
def trained(api, cancer_dataset):
    """A random forest on the breast-cancer data, with its validation rows."""
    body = {
        "dataset": cancer_dataset.pk,
        "target": "diagnosis",
        "algorithm": "random_forest_classifier",
        "params": {"n_estimators": 30},
        "model": "rf",
    }
    job = run(create(api, **body).json()["id"])
    assert job.status == "succeeded", job.error_message
    from training.algorithms import get_algorithm
    from training.data import load_table, validation_split_of

    table = load_table(
        cancer_dataset, features=job.features, target="diagnosis", task="classification"
    )
    _, X_val, _, y_val = validation_split_of(table, job.validation_split, True)
    names = [i["name"] for i in table.inputs]
    rows = [
        dict(zip(names, [float(v) for v in values], strict=True)) for values in X_val.to_numpy()
    ]
    labels = [table.classes[i] for i in y_val]
    assert get_algorithm("random_forest_classifier")
    return job, rows, labels


def predict(api, model_id, body, **headers):
    return api.post(f"/v1/models/{model_id}/predict", body, format="json", **headers)


def test_predictions_match_the_metrics_the_version_claims(api, trained):
    job, rows, labels = trained
    response = predict(api, job.model_id, {"inputs": rows})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["model"] == job.model_id and body["version"] == 1
    assert body["classes"] == ["benign", "malignant"]
    assert len(body["predictions"]) == len(rows) == len(body["probabilities"])
    accuracy = np.mean([p == t for p, t in zip(body["predictions"], labels, strict=True)])
    assert accuracy == pytest.approx(job.metrics["accuracy"], abs=1e-9)
    assert all(abs(sum(p) - 1) < 1e-5 for p in body["probabilities"])
    assert response.headers["X-RateLimit-Limit"] and response.headers["X-Request-Id"]


def test_rows_as_lists_give_the_same_answer(api, trained):
    job, rows, _ = trained
    as_lists = [list(r.values()) for r in rows[:20]]
    by_name = predict(api, job.model_id, {"inputs": rows[:20]}).json()
    by_order = predict(api, job.model_id, {"inputs": as_lists, "version": 1}).json()
    assert by_name["predictions"] == by_order["predictions"]


def test_native_fallback_answers_the_same(api, trained):
    job, rows, _ = trained
    onnx_answer = predict(api, job.model_id, {"inputs": rows[:50]}).json()
    ModelVersion.objects.filter(model_id=job.model_id).update(onnx_path="", onnx_sha256="")
    generation_bump()  # an update() sends no signal (maas.generation)
    version = ModelVersion.objects.get(model_id=job.model_id)
    assert runtime_for(version).engine == "native"
    native_answer = predict(api, job.model_id, {"inputs": rows[:50]}).json()
    assert native_answer["predictions"] == onnx_answer["predictions"]
    np.testing.assert_allclose(
        native_answer["probabilities"], onnx_answer["probabilities"], atol=1e-5
    )


def test_the_one_input_graph_answers_exactly_as_the_exported_one(trained):
    import onnxruntime as ort

    from catalog.artifacts import artifact_read
    from inference.runtime import MATRIX_INPUT
    from inference.validation import prepare_inputs

    job, rows, _ = trained
    version = ModelVersion.objects.get(model_id=job.model_id)
    runtime = runtime_for(version)
    assert runtime.matrix_input == MATRIX_INPUT  # 30 numeric inputs became one [n, 30]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # as served: threads would sum the trees in another order
    exported = ort.InferenceSession(artifact_read(version.onnx_path, version.onnx_sha256), options)
    per_column, _, _ = prepare_inputs(runtime.inputs, rows, 1000)
    matrix, _, _ = prepare_inputs(runtime.inputs, rows, 1000, matrix_input=MATRIX_INPUT)
    expected = exported.run(None, per_column)
    got = runtime.session.run(None, matrix)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(np.asarray(got[1]), np.asarray(expected[1]))
    _, proba = runtime.predict(per_column, None)  # per-column feeds (batch jobs) still work
    np.testing.assert_array_equal(proba, np.asarray(expected[1], dtype=np.float64))


def test_a_changed_artifact_is_never_loaded(api, trained, caplog):
    job, rows, _ = trained
    from django.core.files.storage import default_storage

    version = ModelVersion.objects.get(model_id=job.model_id)
    with default_storage.open(version.onnx_path, "wb") as f:
        f.write(b"not the model we wrote")
    cache_clear()  # as in a process that has not loaded it yet
    response = predict(api, job.model_id, {"inputs": rows[:1]})
    assert_error(response, 500, "api_error")
    assert any("sha256" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


@pytest.mark.parametrize(
    ("inputs", "param", "fragment"),
    [
        ("rows", "inputs", "non-empty list"),
        ([], "inputs", "non-empty list"),
        ([{"mean_radius": 1}], "inputs[0].mean_texture", "missing"),
        ("EXTRA", "inputs[0].colour", "unknown feature"),
        ("WRONG_TYPE", "inputs[1].mean_radius", "must be a number"),
        ("BOOL", "inputs[0].mean_radius", "must be a number"),
        ([[1, 2, 3]], "inputs[0]", "has 3 values"),
        ([42], "inputs[0]", "must be an object"),
    ],
)
def test_malformed_inputs_are_400_naming_row_and_feature(api, trained, inputs, param, fragment):
    job, rows, _ = trained
    if inputs == "EXTRA":
        inputs = [{**rows[0], "colour": "red"}]
    elif inputs == "WRONG_TYPE":
        inputs = [rows[0], {**rows[1], "mean_radius": "big"}]
    elif inputs == "BOOL":
        inputs = [{**rows[0], "mean_radius": True}]
    error = assert_error(
        predict(api, job.model_id, {"inputs": inputs}), 400, "invalid_request_error"
    )
    assert error["param"] == param and fragment in error["message"]


def test_other_bad_requests(api, trained, settings):
    job, rows, _ = trained
    settings.MAAS_PREDICT_MAX_ROWS = 5
    error = assert_error(
        predict(api, job.model_id, {"inputs": rows[:6]}), 400, "invalid_request_error"
    )
    assert error["code"] == "too_many_rows"
    assert_error(
        predict(api, job.model_id, {"inputs": rows[:1], "version": 9}), 404, "not_found_error"
    )
    latest = predict(api, job.model_id, {"inputs": rows[:1], "version": "latest"})
    assert latest.json()["version"] == 1  # built in (API.md "aliases")
    assert_error(
        predict(api, job.model_id, {"inputs": rows[:1], "version": "Latest!"}),
        400,
        "invalid_request_error",
    )
    assert_error(
        predict(api, job.model_id, {"inputs": rows[:1], "colour": 1}), 400, "invalid_request_error"
    )
    bad_json = api.post(
        f"/v1/models/{job.model_id}/predict", data="{", content_type="application/json"
    )
    assert_error(bad_json, 400, "invalid_request_error", "invalid_body")
    nan = api.post(
        f"/v1/models/{job.model_id}/predict",
        data='{"inputs": [[NaN]]}',
        content_type="application/json",
    )
    assert_error(nan, 400, "invalid_request_error")
    # Nested past any depth a row takes, in a row, in version, and past orjson's own 1,024.
    for body in (
        '{"inputs": [{"a": ' + "[" * 900 + "]" * 900 + "}]}",
        '{"inputs": [' + "[" * 900 + "]" * 900 + "]}",
        '{"inputs": [], "version": ' + "[" * 900 + "]" * 900 + "}",
        '{"inputs": ' + "[" * 5000 + "]" * 5000 + "}",
    ):
        deep = api.post(
            f"/v1/models/{job.model_id}/predict", data=body, content_type="application/json"
        )
        assert_error(deep, 400, "invalid_request_error")
    assert_error(api.get(f"/v1/models/{job.model_id}/predict"), 405, "invalid_request_error")
    assert_error(predict(api, "mdl_nope", {"inputs": rows[:1]}), 404, "not_found_error")


def test_another_tenants_model_is_404(trained, client_for, other_tenant):
    job, rows, _ = trained
    intruder = client_for(ApiKeyFactory(tenant=other_tenant))
    assert_error(predict(intruder, job.model_id, {"inputs": rows[:1]}), 404, "not_found_error")


def test_a_predict_only_key_can_predict_and_nothing_else(trained, client_for, tenant):
    job, rows, _ = trained
    key = client_for(ApiKeyFactory(tenant=tenant, scopes=["predict"]))
    assert predict(key, job.model_id, {"inputs": rows[:2]}).status_code == 200
    assert_error(key.get("/v1/datasets"), 403, "permission_error", "insufficient_scope")
    reader = client_for(ApiKeyFactory(tenant=tenant, scopes=["read"]))
    assert_error(predict(reader, job.model_id, {"inputs": rows[:2]}), 403, "permission_error")
    assert_error(
        predict(client_for("mk_" + "x" * 44), job.model_id, {"inputs": rows[:2]}),
        401,
        "authentication_error",
    )


def test_predictions_are_metered_once_per_request(api, api_key, trained, tenant):
    job, rows, _ = trained
    predict(api, job.model_id, {"inputs": rows[:7]})
    first = predict(api, job.model_id, {"inputs": rows[:3]}, HTTP_IDEMPOTENCY_KEY="batch-1")
    again = predict(api, job.model_id, {"inputs": rows[:3]}, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    events = UsageEvent.objects.filter(tenant=tenant, meter="predictions").order_by("id")
    assert [e.quantity for e in events] == [7, 3]
    assert events[0].dimensions == {
        "model": job.model_id,
        "price_tier": "standard",
        "api_key": api_key.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_as_served_each_prediction_is_recorded_once_even_when_run_again(
    api, trained, tenant, settings, monkeypatch
):
    """No transaction around the request, as served: the usage goes to the Redis stream, in the
    rate-limit count's round trip, or to the inbox without Redis. A request whose cached rows
    changed while it ran is run again (maas.lean_views) and still recorded once."""
    from billing.services import drain_usage_inbox, drain_usage_redis
    from billing.usage import PreparedUsage

    job, rows, _ = trained
    settings.MAAS_USAGE_SINK = "stream" if settings.REDIS_URL else "inbox"  # the defaults
    recorded_apart = []
    commit = PreparedUsage.commit
    monkeypatch.setattr(
        PreparedUsage, "commit", lambda usage: recorded_apart.append(usage.minor) or commit(usage)
    )
    # Any request caches the key; training bumped the generation since the job was created.
    assert api.get("/v1/tenant").status_code == 200
    assert predict(api, job.model_id, {"inputs": rows[:2]}).status_code == 200
    generation_bump()  # as a key changed by another process would
    assert predict(api, job.model_id, {"inputs": rows[:3]}).status_code == 200
    assert predict(api, job.model_id, {"inputs": rows[:4]}).status_code == 200
    if settings.REDIS_URL:
        # The first and the third rode with their count. The second learned of the change from
        # its count's answer, tallied nothing, ran again and recorded its event itself.
        assert recorded_apart == [3]
        drain_usage_redis()
    else:
        assert recorded_apart == [2, 3, 4]
        drain_usage_inbox()
    # Stored summed per model and minute (billing.drain): 9 rows predicted in 3 events.
    events = UsageEvent.objects.filter(tenant=tenant, meter="predictions")
    assert sum(e.quantity for e in events) == 9 and sum(e.event_count for e in events) == 3


def test_a_prediction_over_the_rate_limit_is_429_and_not_metered(api, trained, monkeypatch):
    from maas import admission
    from maas.generation import generation_read
    from maas.ratelimit import PendingCount

    job, rows, _ = trained

    def over_the_limit(tenant_id, limit):  # the count comes back after the model has run
        return PendingCount(
            limit, 30, lambda append, trusted: (limit + 1, generation_read(), False)
        )

    monkeypatch.setattr(admission, "rate_limit_start", over_the_limit)
    response = predict(api, job.model_id, {"inputs": rows[:3]})
    assert_error(response, 429, "rate_limit_error", "rate_limited")
    assert response.headers["Retry-After"] == "30"
    assert not UsageEvent.objects.filter(meter="predictions").exists()


def test_spend_cap_is_402(api, trained, tenant):
    from decimal import Decimal

    from django.utils import timezone

    from billing.models import SpendStatus
    from billing.rollups import month_start
    from billing.spend import spend_cache_forget

    job, rows, _ = trained
    type(tenant).objects.filter(pk=tenant.pk).update(spend_limit=Decimal("1.00"))
    SpendStatus.objects.update_or_create(
        tenant=tenant, defaults={"period_start": month_start(timezone.now()), "amount": 2}
    )
    spend_cache_forget(tenant.pk)  # as the rollup does; the job's own check cached 0.00
    assert_error(predict(api, job.model_id, {"inputs": rows[:1]}), 402, "spend_limit_error")


def test_a_deleted_model_is_gone_at_once(api, trained):
    job, rows, _ = trained
    assert predict(api, job.model_id, {"inputs": rows[:1]}).status_code == 200  # now cached
    assert api.delete(f"/v1/models/{job.model_id}").status_code == 200
    assert_error(predict(api, job.model_id, {"inputs": rows[:1]}), 404, "not_found_error")
    assert not Model.objects.exists()
