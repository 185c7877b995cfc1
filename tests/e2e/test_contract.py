"""One contract, two request paths: the same suite against a DRF endpoint (POST /v1/api-keys) and
against the predict hot path (POST /v1/models/{id}/predict), both served by gunicorn on maas.wsgi
as the Procfile runs it, over real HTTP. Every answer is also checked against docs/openapi.json."""

import json

import pytest
import requests

from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import OpenApiDocument, assert_error, rate_limit_window_ahead
from tests.training.conftest import breast_cancer_csv, make_dataset
from training.services import training_job_create, training_job_run

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENT = OpenApiDocument()


@pytest.fixture
def model(settings, tenant):
    """A logistic regression of `tenant`, and one of its rows."""
    settings.MAAS_USAGE_SINK = "database"
    dataset = make_dataset(tenant, breast_cancer_csv(), "cancer.csv")
    job = training_job_create(
        tenant=tenant, dataset=dataset.pk, target="diagnosis", algorithm="logistic_regression"
    )
    training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    row = {c["name"]: 1.0 for c in dataset.columns if c["name"] != "diagnosis"}
    return job.model_id, row


# Per path: the operation, what to send, a body it refuses, and a key's scopes that lack its own.
PATHS = {
    "drf": {
        "operation": "create_api_key",
        "path": lambda model_id: "/v1/api-keys",
        "body": lambda row: {"name": "deploy", "scopes": ["read"]},
        "other_body": lambda row: {"name": "other", "scopes": ["read"]},
        "bad_body": {"scopes": "read"},
        "bad_param": "scopes",
        "replayed": lambda first: {**first, "api_key": None},  # the secret is shown once
        "lacking": ["read", "write", "predict", "billing"],
        "ok": 201,
    },
    "predict": {
        "operation": "predict",
        "path": lambda model_id: f"/v1/models/{model_id}/predict",
        "body": lambda row: {"inputs": [row]},
        "other_body": lambda row: {"inputs": [row, row]},
        "bad_body": {"inputs": "rows"},
        "bad_param": "inputs",
        "replayed": lambda first: first,
        "lacking": ["read", "write", "billing", "admin"],
        "ok": 200,
    },
}


@pytest.fixture(params=list(PATHS))
def endpoint(request, served, model):
    spec = PATHS[request.param]
    model_id, row = model

    class Endpoint:
        def post(self, key: str | None, body, chunked=False, **headers) -> requests.Response:
            if key is not None:
                headers["Authorization"] = f"Bearer {key}"
            url = served + spec["path"](model_id)
            if chunked:  # a generator body: requests sends it Transfer-Encoding: chunked
                raw = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
                data = iter([raw[:7], raw[7:]])
                response = requests.post(url, data=data, headers=headers, timeout=30)
            else:
                response = requests.post(url, json=body, headers=headers, timeout=30)
            DOCUMENT.check(spec["operation"], response)
            return response

        body = spec["body"](row)
        replayed = staticmethod(spec["replayed"])
        other_body = spec["other_body"](row)
        bad_body, bad_param, lacking, ok = (
            spec["bad_body"],
            spec["bad_param"],
            spec["lacking"],
            spec["ok"],
        )

    return Endpoint()


def test_a_request_without_a_valid_key_is_401(endpoint, tenant):
    for key, code in [(None, "missing_api_key"), ("mk_" + "x" * 44, "invalid_api_key")]:
        response = endpoint.post(key, endpoint.body)
        assert_error(response, 401, "authentication_error", code)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_without_the_scope_is_403(endpoint, tenant):
    key = ApiKeyFactory(tenant=tenant, scopes=endpoint.lacking)
    error = assert_error(endpoint.post(key.raw, endpoint.body), 403, "permission_error")
    assert error["code"] == "insufficient_scope"


def test_over_the_rate_limit_is_429_with_its_headers(endpoint, tenant):
    type(tenant).objects.filter(pk=tenant.pk).update(requests_per_minute=2)
    key = ApiKeyFactory(tenant=tenant).raw  # a key not cached anywhere: the tenant row is read
    rate_limit_window_ahead()
    answers = [endpoint.post(key, endpoint.body) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [endpoint.ok] * 2
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    assert answers[0].headers["X-RateLimit-Remaining"] == "1"
    limited = answers[2]
    assert_error(limited, 429, "rate_limit_error", "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(limited.headers["X-RateLimit-Reset"]) <= 60


def test_a_repeat_is_replayed_and_a_changed_body_is_409(endpoint, api_key):
    first = endpoint.post(api_key.raw, endpoint.body, **{"Idempotency-Key": "contract-1"})
    again = endpoint.post(api_key.raw, endpoint.body, **{"Idempotency-Key": "contract-1"})
    assert first.status_code == again.status_code == endpoint.ok
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == endpoint.replayed(first.json())
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    changed = endpoint.post(api_key.raw, endpoint.other_body, **{"Idempotency-Key": "contract-1"})
    error = assert_error(changed, 409, "conflict_error", "idempotency_key_reused")
    assert error["param"] == "Idempotency-Key"


def test_a_bad_body_is_400_in_the_error_shape(endpoint, api_key):
    error = assert_error(
        endpoint.post(api_key.raw, endpoint.bad_body), 400, "invalid_request_error"
    )
    assert error["param"] == endpoint.bad_param and endpoint.bad_param in error["message"]


def test_every_answer_carries_a_request_id_and_a_sane_one_is_kept(endpoint, api_key):
    kept = endpoint.post(api_key.raw, endpoint.body, **{"X-Request-Id": "trace-1234.abc"})
    assert kept.status_code == endpoint.ok and kept.headers["X-Request-Id"] == "trace-1234.abc"
    fresh = endpoint.post(api_key.raw, endpoint.body, **{"X-Request-Id": "bad id\u00e9"[:6]})
    assert fresh.headers["X-Request-Id"].startswith("req_")
    refused = endpoint.post(None, endpoint.body, **{"X-Request-Id": "trace-5678.abc"})
    assert refused.json()["error"]["request_id"] == "trace-5678.abc"


def test_another_tenants_model_is_404_on_predict(served, model):
    model_id, row = model
    intruder = ApiKeyFactory(tenant=TenantFactory(name="Intruder"))
    response = requests.post(
        f"{served}/v1/models/{model_id}/predict",
        json={"inputs": [row]},
        headers={"Authorization": f"Bearer {intruder.raw}"},
        timeout=30,
    )
    assert_error(response, 404, "not_found_error")
    DOCUMENT.check("predict", response)


def test_a_chunked_body_is_read_as_any_other(endpoint, api_key):
    response = endpoint.post(api_key.raw, endpoint.body, chunked=True)
    assert response.status_code == endpoint.ok, response.json()
