from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.models import ApiKey
from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("plan", "rpm", "jobs", "upload", "spend_limit"),
    [
        ("free", 60, 1, 10_000_000, "0.00"),
        ("standard", 6000, 4, 100_000_000, None),
        ("enterprise", 60000, 32, 1_000_000_000, None),
    ],
)
def test_get_tenant_shows_plan_limits(client_for, plan, rpm, jobs, upload, spend_limit):
    from tenants.services import tenant_create

    tenant = tenant_create(name="Acme", plan=plan)
    body = client_for(ApiKeyFactory(tenant=tenant)).get("/v1/tenant").json()
    assert body["id"] == tenant.pk and body["name"] == "Acme" and body["plan"] == plan
    assert body["limits"] == {
        "requests_per_minute": rpm,
        "max_concurrent_jobs": jobs,
        "max_upload_bytes": upload,
    }
    assert body["spend_limit"] == spend_limit
    assert body["currency"] == "usd"


def test_tenant_override_of_rate_limit_shows(client_for):
    tenant = TenantFactory(plan="free", requests_per_minute=500)
    body = client_for(ApiKeyFactory(tenant=tenant)).get("/v1/tenant").json()
    assert body["limits"]["requests_per_minute"] == 500


def test_patch_spend_limit_sets_and_clears_the_cap(api):
    response = api.patch("/v1/tenant", {"spend_limit": "25"}, format="json")
    assert response.status_code == 200 and response.json()["spend_limit"] == "25.00"
    assert api.get("/v1/tenant").json()["spend_limit"] == "25.00"
    response = api.patch("/v1/tenant", {"spend_limit": None}, format="json")
    assert response.json()["spend_limit"] is None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"spend_limit": "-1"}, "spend_limit"),
        ({"spend_limit": "abc"}, "spend_limit"),
        ({"spend_limit": "1.234"}, "spend_limit"),
        ({"spend_limt": "10"}, "spend_limt"),
        ({"name": "new name"}, "name"),
    ],
)
def test_patch_tenant_rejects_bad_input_naming_the_field(api, body, param):
    error = assert_error(api.patch("/v1/tenant", body, format="json"), 400, "invalid_request_error")
    assert error["param"] == param and param in error["message"]


def test_patch_tenant_needs_admin_scope(client_for, tenant):
    client = client_for(ApiKeyFactory(tenant=tenant, scopes=["read", "write"]))
    response = client.patch("/v1/tenant", {"spend_limit": "5"}, format="json")
    assert_error(response, 403, "permission_error", "insufficient_scope")


def test_create_key_returns_the_secret_once_and_it_works(api, client_for):
    response = api.post("/v1/api-keys", {"name": "ci", "scopes": ["read"]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("key_") and body["api_key"].startswith("mk_")
    assert body["api_key"].startswith(body["prefix"]) and body["scopes"] == ["read"]
    assert body["revoked_at"] is None and body["last_used_at"] is None
    new_client = client_for(body["api_key"])
    assert new_client.get("/v1/tenant").status_code == 200
    assert_error(new_client.get("/v1/api-keys"), 403, "permission_error")  # read, not admin
    listed = api.get("/v1/api-keys").json()["data"]
    assert body["id"] in [k["id"] for k in listed]
    assert all("api_key" not in k and "secret_hash" not in k for k in listed)
    assert api.get(f"/v1/api-keys/{body['id']}").json()["prefix"] == body["prefix"]


@pytest.mark.parametrize(
    ("held", "asked", "allowed"),
    [
        (["admin"], ["admin"], True),
        (["admin", "read", "predict"], ["predict"], True),
        (["admin"], ["predict"], False),  # an admin key cannot grant what it lacks
        (["admin", "read"], ["read", "write"], False),
    ],
)
def test_a_key_makes_keys_with_at_most_its_own_scopes(client_for, tenant, held, asked, allowed):
    client = client_for(ApiKeyFactory(tenant=tenant, scopes=held))
    response = client.post("/v1/api-keys", {"scopes": asked}, format="json")
    if allowed:
        assert response.status_code == 201 and response.json()["scopes"] == asked
    else:
        error = assert_error(response, 403, "permission_error", "insufficient_scope")
        assert error["param"] == "scopes" and "cannot grant" in error["message"]
        assert ApiKey.objects.filter(tenant=tenant).count() == 1  # only the asking key


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"name": "x"}, "scopes", "parameter_missing"),
        ({"scopes": []}, "scopes", "parameter_invalid"),
        ({"scopes": ["read", "root"]}, "scopes[1]", "parameter_invalid"),
        ({"scopes": "read"}, "scopes", "parameter_invalid"),
        ({"scopes": ["read"], "expires_at": "yesterday"}, "expires_at", "parameter_invalid"),
        ({"scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at", None),
        ({"scopes": ["read"], "name": "x" * 201}, "name", None),
        ({"scopes": ["read"], "scope": ["read"]}, "scope", "parameter_unknown"),
    ],
)
def test_create_key_validation_names_the_param(api, body, param, code):
    error = assert_error(
        api.post("/v1/api-keys", body, format="json"), 400, "invalid_request_error"
    )
    assert error["param"] == param
    if code:
        assert error["code"] == code


def test_body_that_is_not_an_object_is_400(api):
    error = assert_error(
        api.post("/v1/api-keys", [1, 2], format="json"), 400, "invalid_request_error"
    )
    assert "JSON object" in error["message"]


def test_create_key_with_expiry(api):
    expires = (timezone.now() + timedelta(days=30)).isoformat()
    body = api.post(
        "/v1/api-keys", {"scopes": ["predict"], "expires_at": expires}, format="json"
    ).json()
    assert body["expires_at"] is not None


def test_revoke_key_is_irreversible_and_idempotent(api, client_for, tenant):
    victim = ApiKeyFactory(tenant=tenant)
    response = api.delete(f"/v1/api-keys/{victim.pk}")
    assert response.status_code == 200
    revoked_at = response.json()["revoked_at"]
    assert revoked_at is not None
    assert_error(
        client_for(victim).get("/v1/tenant"), 401, "authentication_error", "api_key_revoked"
    )
    again = api.delete(f"/v1/api-keys/{victim.pk}")
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked_at


def test_unknown_key_id_is_404(api):
    error = assert_error(api.delete("/v1/api-keys/key_nope"), 404, "not_found_error")
    assert "key_nope" in error["message"]


def test_another_tenants_key_is_404_and_untouched(api, other_tenant):
    theirs = ApiKeyFactory(tenant=other_tenant)
    assert_error(api.get(f"/v1/api-keys/{theirs.pk}"), 404, "not_found_error")
    assert_error(api.delete(f"/v1/api-keys/{theirs.pk}"), 404, "not_found_error")
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None
    assert theirs.pk not in [k["id"] for k in api.get("/v1/api-keys").json()["data"]]
