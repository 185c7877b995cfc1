"""The foundation over real HTTP, as a client would use it."""

import json
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import call_command

from tenants.models import ApiKey
from tests.helpers import assert_error, rate_limit_window_ahead

pytestmark = pytest.mark.django_db(transaction=True)


def new_tenant(*args: str) -> dict:
    out = StringIO()
    call_command("create_tenant", *args, stdout=out)
    return json.loads(out.getvalue())


def test_a_tenant_manages_its_keys_over_http(http):
    created = new_tenant("Acme", "--plan", "standard")
    api = http(created["api_key"])

    tenant = api.get("/v1/tenant")
    assert tenant.status_code == 200 and tenant.json()["id"] == created["tenant_id"]
    assert tenant.headers["X-Request-Id"].startswith("req_")
    assert tenant.headers["X-RateLimit-Limit"] == "6000"

    body = {"name": "ci", "scopes": ["read", "predict"]}
    first = api.post("/v1/api-keys", json=body, headers={"Idempotency-Key": "create-ci-key"})
    again = api.post("/v1/api-keys", json=body, headers={"Idempotency-Key": "create-ci-key"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {**first.json(), "api_key": None}  # the secret was shown once
    other = api.post(
        "/v1/api-keys", json={**body, "name": "x"}, headers={"Idempotency-Key": "create-ci-key"}
    )
    assert_error(other, 409, "conflict_error", "idempotency_key_reused")

    ci = http(first.json()["api_key"])
    assert ci.get("/v1/tenant").status_code == 200
    assert_error(ci.get("/v1/api-keys"), 403, "permission_error", "insufficient_scope")

    assert api.delete(f"/v1/api-keys/{first.json()['id']}").status_code == 200
    assert_error(ci.get("/v1/tenant"), 401, "authentication_error", "api_key_revoked")
    assert_error(http().get("/v1/tenant"), 401, "authentication_error", "missing_api_key")

    patched = api.patch("/v1/tenant", json={"spend_limit": "12.50"})
    assert patched.json()["spend_limit"] == "12.50"


def test_pagination_to_the_end_over_http(http):
    created = new_tenant("Acme")
    api = http(created["api_key"])
    for n in range(6):
        assert api.post("/v1/api-keys", json={"name": f"k{n}", "scopes": ["read"]}).ok
    seen, cursor = [], None
    while True:
        page = api.get("/v1/api-keys", params={"limit": 3, "cursor": cursor}).json()
        seen += [k["name"] for k in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["k5", "k4", "k3", "k2", "k1", "k0", "default"]


def test_rate_limit_over_http(http):
    api = http(new_tenant("Acme", "--requests-per-minute", "5")["api_key"])
    rate_limit_window_ahead()
    statuses = [api.get("/v1/tenant").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = api.get("/v1/tenant")
    assert_error(limited, 429, "rate_limit_error", "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_every_error_over_http_has_the_shape(http):
    api = http(new_tenant("Acme")["api_key"])
    assert_error(api.get("/v1/nope"), 404, "not_found_error")
    assert_error(api.request("PUT", "/v1/tenant", json={}), 405, "invalid_request_error")
    assert_error(
        api.post("/v1/api-keys", data="{", headers={"Content-Type": "application/json"}),
        400,
        "invalid_request_error",
    )
    assert_error(api.post("/v1/api-keys", json={}), 400, "invalid_request_error")
    assert_error(api.get("/v1/api-keys/key_unknown"), 404, "not_found_error")
    assert_error(http("mk_garbage").get("/v1/tenant"), 401, "authentication_error")


def test_concurrent_duplicates_run_the_handler_once(http, settings):
    settings.ROOT_URLCONF = "tests.e2e.urls"
    created = new_tenant("Acme")
    api_a, api_b = http(created["api_key"]), http(created["api_key"])

    def post(api):
        return api.post(
            "/v1/_test/slow-write", json={"seconds": 1}, headers={"Idempotency-Key": "race"}
        )

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(post, [api_a, api_b]))
    fresh = [
        r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    ]
    others = [r for r in responses if r not in fresh]
    assert len(fresh) == 1 and len(others) == 1
    # Whether the second waits and replays or is told the key is in use depends on the
    # database's locking; either way the write happened once.
    other = others[0]
    if other.status_code == 201:
        assert other.headers["Idempotent-Replayed"] == "true"
        assert other.json() == fresh[0].json()
    else:
        assert_error(other, 409, "conflict_error", "idempotency_key_in_use")
    assert ApiKey.objects.filter(name="slow write").count() == 1
