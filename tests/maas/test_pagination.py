import pytest

from tests.factories import ApiKeyFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_pages_through_to_the_end_without_gaps_or_repeats(api, api_key, tenant):
    expected = {ApiKeyFactory(tenant=tenant).pk for _ in range(44)} | {api_key.pk}
    seen, sizes, cursor = [], [], None
    while True:
        params = {"limit": 20, **({"cursor": cursor} if cursor else {})}
        body = api.get("/v1/api-keys", params).json()
        seen += [k["id"] for k in body["data"]]
        sizes.append(len(body["data"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sizes == [20, 20, 5]
    assert len(seen) == len(set(seen)) == 45 and set(seen) == expected


def test_newest_first(api, tenant):
    keys = [ApiKeyFactory(tenant=tenant) for _ in range(3)]
    listed = [k["id"] for k in api.get("/v1/api-keys").json()["data"]]
    assert listed[:3] == [k.pk for k in reversed(keys)]


def test_default_limit_is_20_and_limits_are_clamped(api, tenant):
    for _ in range(120):
        ApiKeyFactory(tenant=tenant)
    assert len(api.get("/v1/api-keys").json()["data"]) == 20
    assert len(api.get("/v1/api-keys", {"limit": 0}).json()["data"]) == 1
    assert len(api.get("/v1/api-keys", {"limit": -5}).json()["data"]) == 1
    assert len(api.get("/v1/api-keys", {"limit": 1000}).json()["data"]) == 100


def test_an_empty_list_ends_at_once(client_for, tenant):
    body = client_for(ApiKeyFactory(tenant=tenant)).get("/v1/api-keys").json()
    assert len(body["data"]) == 1 and body["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "ten"}, "limit"),
        ({"cursor": "!!"}, "cursor"),
        ({"cursor": "eyJ4IjoxfQ"}, "cursor"),
    ],
)
def test_bad_limit_or_cursor_is_400(api, params, param):
    error = assert_error(api.get("/v1/api-keys", params), 400, "invalid_request_error")
    assert error["param"] == param
