from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from tenants.models import Tenant
from tenants.services import api_key_revoke
from tests.factories import ApiKeyFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_no_key_is_401_with_challenge(client):
    response = client.get("/v1/tenant")
    error = assert_error(response, 401, "authentication_error", "missing_api_key")
    assert "Bearer" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["mk_abc", "Basic dXNlcjpwYXNz", "Bearer", "Bearer mk_short"])
def test_malformed_header_or_key_is_401(client, header):
    response = client.get("/v1/tenant", HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "authentication_error")


def test_unknown_key_is_401(client_for, api_key):
    raw = api_key.raw
    wrong_secret = raw[:-1] + ("A" if raw[-1] != "A" else "B")  # right prefix, wrong secret
    for key in [wrong_secret, "mk_" + "x" * 44]:
        response = client_for(key).get("/v1/tenant")
        assert_error(response, 401, "authentication_error", "invalid_api_key")


def test_revoked_key_is_401_on_the_next_request(client_for, api_key):
    client = client_for(api_key)
    assert client.get("/v1/tenant").status_code == 200
    api_key_revoke(key=api_key)  # in any process: every process's cached copy is dropped
    assert_error(client.get("/v1/tenant"), 401, "authentication_error", "api_key_revoked")


def test_expired_key_is_401(client_for, tenant):
    key = ApiKeyFactory(tenant=tenant, expires_at=timezone.now() + timedelta(hours=1))
    client = client_for(key)
    assert client.get("/v1/tenant").status_code == 200
    with freeze_time(timezone.now() + timedelta(hours=2)):
        assert_error(client.get("/v1/tenant"), 401, "authentication_error", "api_key_expired")


def test_suspended_tenant_is_403(api, tenant):
    assert api.get("/v1/tenant").status_code == 200  # the key is now cached
    tenant.status = Tenant.Status.SUSPENDED
    tenant.save()  # as the admin does
    assert_error(api.get("/v1/tenant"), 403, "permission_error", "tenant_suspended")


def test_missing_scope_is_403(client_for, tenant):
    key = ApiKeyFactory(tenant=tenant, scopes=["predict"])
    error = assert_error(client_for(key).get("/v1/tenant"), 403, "permission_error")
    assert error["code"] == "insufficient_scope" and "'read'" in error["message"]


def test_last_used_at_is_written_at_most_once_a_minute(api, api_key):
    start = timezone.now()
    with freeze_time(start):
        api.get("/v1/tenant")
    api_key.refresh_from_db()
    assert api_key.last_used_at == start
    with freeze_time(start + timedelta(seconds=30)):
        api.get("/v1/tenant")
    api_key.refresh_from_db()
    assert api_key.last_used_at == start
    with freeze_time(start + timedelta(seconds=61)):
        api.get("/v1/tenant")
    api_key.refresh_from_db()
    assert api_key.last_used_at == start + timedelta(seconds=61)
