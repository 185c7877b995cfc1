"""The lean path's per-process key cache: no query while nothing changed, and any change made in
any process takes effect on the next request."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from maas.errors import AuthenticationError, Forbidden
from maas.ratelimit import rate_limit_start
from tenants.authentication import authenticate_again, authenticate_and_count
from tenants.models import Tenant
from tenants.services import api_key_revoke
from tests.billing.subprocess_env import ROOT, child_env
from tests.factories import ApiKeyFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db(transaction=True)


def check(raw: str):
    """What maas.lean_views does: trust the cached key, then compare generations."""
    header = f"Bearer {raw}"
    principal, pending, generation = authenticate_and_count(header, rate_limit_start)
    state = pending.state()
    if state.generation != generation:
        principal = authenticate_again(header, state.generation)
    return principal


def code_of(excinfo) -> str:
    return excinfo.value.code


def test_a_checked_key_costs_no_query_until_something_changes(
    api_key, django_assert_num_queries, django_assert_max_num_queries
):
    # One instant: the embedded rate limiter adds its local count to the shared row once a
    # second and at each new window, which would be a query here.
    with freeze_time(timezone.now().replace(second=10)):
        with django_assert_max_num_queries(3):  # the key with its tenant, last_used_at, a count
            assert check(api_key.raw).key_id == api_key.pk
        with django_assert_num_queries(0):
            for _ in range(5):
                assert check(api_key.raw).key_id == api_key.pk
    api_key.refresh_from_db()
    api_key.name = "renamed"
    api_key.save()  # any change to a key or tenant invalidates every process's cache
    with django_assert_max_num_queries(2) as queries:  # the key again (and perhaps a count)
        assert check(api_key.raw).key_id == api_key.pk
    assert any("tenants_apikey" in q["sql"] for q in queries.captured_queries)


def test_a_wrong_secret_with_a_cached_prefix_is_401(api_key):
    check(api_key.raw)
    raw = api_key.raw
    wrong = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    with pytest.raises(AuthenticationError) as excinfo:
        check(wrong)
    assert code_of(excinfo) == "invalid_api_key"
    assert check(api_key.raw).key_id == api_key.pk


def revoke_elsewhere(api_key) -> None:
    revoke = (
        "import django; django.setup(); from tenants.models import ApiKey; "
        "from tenants.services import api_key_revoke; "
        f"api_key_revoke(key=ApiKey.objects.get(pk={api_key.pk!r}))"
    )
    env = child_env(DJANGO_SETTINGS_MODULE="maas.settings")
    done = subprocess.run(
        [sys.executable, "-c", revoke], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_key_revoked_in_another_process_fails_on_the_next_request(api_key):
    check(api_key.raw)
    revoke_elsewhere(api_key)
    with pytest.raises(AuthenticationError) as excinfo:
        check(api_key.raw)
    assert code_of(excinfo) == "api_key_revoked"


def test_the_predict_endpoint_refuses_a_key_revoked_elsewhere(client_for, api_key):
    client = client_for(api_key)
    url = "/v1/models/mdl_nothing/predict"
    assert client.post(url, {"inputs": [[1]]}, format="json").status_code == 404  # key cached
    revoke_elsewhere(api_key)
    response = client.post(url, {"inputs": [[1]]}, format="json")
    assert_error(response, 401, "authentication_error", "api_key_revoked")


def test_revoked_in_this_process(api_key):
    check(api_key.raw)
    api_key_revoke(key=api_key)
    with pytest.raises(AuthenticationError):
        check(api_key.raw)


def test_a_suspended_tenant_is_refused_on_the_next_request(api_key, tenant):
    check(api_key.raw)
    tenant.status = Tenant.Status.SUSPENDED
    tenant.save()  # as the admin does
    with pytest.raises(Forbidden) as excinfo:
        check(api_key.raw)
    assert code_of(excinfo) == "tenant_suspended"


def test_a_cached_key_still_expires(tenant):
    key = ApiKeyFactory(tenant=tenant, expires_at=timezone.now() + timedelta(hours=1))
    check(key.raw)
    later = timezone.now() + timedelta(hours=2)
    with freeze_time(later), pytest.raises(AuthenticationError) as excinfo:
        check(key.raw)
    assert code_of(excinfo) == "api_key_expired"


def test_a_cached_key_still_writes_last_used_at_once_a_minute(api_key):
    start = timezone.now()
    with freeze_time(start):
        check(api_key.raw)
    with freeze_time(start + timedelta(seconds=61)):
        check(api_key.raw)
    api_key.refresh_from_db()
    assert api_key.last_used_at == start + timedelta(seconds=61)
