import pytest

from tenants.models import ApiKey
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def test_routes(settings):
    settings.ROOT_URLCONF = "tests.maas.urls"


def test_unknown_route_under_v1_is_json_404(api):
    error = assert_error(api.get("/v1/no-such-thing"), 404, "not_found_error", "route_not_found")
    assert "/v1/no-such-thing" in error["message"]


def test_unknown_route_without_auth_is_json_404(client):
    assert_error(client.post("/v1/nothing/here"), 404, "not_found_error")


def test_unknown_route_outside_v1_is_json_404(client):
    assert_error(client.get("/nothing-here"), 404, "not_found_error")


def test_method_not_allowed_is_405_in_the_shape(api):
    response = api.put("/v1/tenant", {}, format="json")
    error = assert_error(response, 405, "invalid_request_error", "method_not_allowed")
    assert "PUT" in error["message"]
    assert "PATCH" in response.headers["Allow"]


def test_unparseable_json_is_400(api):
    response = api.post("/v1/api-keys", data='{"name": ', content_type="application/json")
    error = assert_error(response, 400, "invalid_request_error", "invalid_body")
    assert "JSON" in error["message"]


def test_unsupported_media_type_is_415(api):
    response = api.post("/v1/api-keys", data="name=x", content_type="text/plain")
    assert_error(response, 415, "invalid_request_error", "unsupported_media_type")


def test_body_over_the_limit_is_413_before_reading(api, settings):
    settings.MAAS_MAX_JSON_BODY_BYTES = 100
    response = api.post(
        "/v1/api-keys", data='{"name": "' + "x" * 200 + '"}', content_type="application/json"
    )
    error = assert_error(response, 413, "invalid_request_error", "request_too_large")
    assert "100 bytes" in error["message"]


def test_unexpected_exception_is_500_without_leaking(api, test_routes, caplog):
    response = api.get("/v1/_test/boom")
    error = assert_error(response, 500, "api_error", "internal_error")
    assert "secret internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["request_id"] in error["message"]
    logged = [r for r in caplog.records if r.name == "maas.errors"]
    assert logged and logged[0].exc_info and logged[0].request_id == error["request_id"]


def test_a_failed_post_leaves_no_writes(api, test_routes, tenant):
    assert_error(api.post("/v1/_test/boom?mode=invalid"), 400, "invalid_request_error")
    assert_error(api.post("/v1/_test/boom"), 500, "api_error")
    assert not ApiKey.objects.filter(name="written-before-failing").exists()


def test_a_host_outside_allowed_hosts_is_400_in_the_error_shape(client):
    response = client.get("/v1/tenant", HTTP_HOST="evil.example")
    error = assert_error(response, 400, "invalid_request_error", "host_not_allowed")
    assert "ALLOWED_HOSTS" in error["message"]
