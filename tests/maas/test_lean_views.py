"""The lean view's admission: the count is read after the handler's work, before it records."""

import pytest

from maas.generation import generation_bump, generation_read
from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import assert_error
from tests.maas import urls

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _test_routes(settings):
    settings.ROOT_URLCONF = "tests.maas.urls"
    urls.lean_runs.clear()


def test_a_request_that_trusted_a_stale_cache_is_run_again_from_the_database(
    client_for, api_key, settings
):
    client = client_for(api_key)
    assert client.post("/v1/_test/lean").status_code == 200  # the key is now cached
    generation_bump()  # as another process changing a key would
    response = client.post("/v1/_test/lean")
    assert response.status_code == 200, response.json()
    # With Redis the first run learns of the change only at admit() and is run again; without,
    # the change is seen before the handler runs. Either way the answer comes from a run that
    # trusted the current generation.
    assert urls.lean_runs[-1] == generation_read() != urls.lean_runs[0]
    assert len(urls.lean_runs) == (3 if settings.REDIS_URL else 2)
    assert response.headers["X-RateLimit-Remaining"]


def test_over_the_limit_the_handler_stops_at_admit(client_for):
    key = ApiKeyFactory(tenant=TenantFactory(requests_per_minute=1), scopes=["predict"])
    client = client_for(key)
    assert client.post("/v1/_test/lean").status_code == 200
    response = client.post("/v1/_test/lean")
    assert_error(response, 429, "rate_limit_error", "rate_limited")
    assert response.headers["X-RateLimit-Remaining"] == "0" and response.headers["Retry-After"]
