import pytest

from maas.errors import InvalidRequest
from maas.jsonbody import json_body_load, json_depth_within
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def nested(levels: int) -> bytes:
    return b'{"params": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


@pytest.mark.parametrize(
    ("value", "depth", "within"),
    [
        (1, 0, True),
        ([], 1, True),
        ({"a": [1, {"b": [2]}]}, 4, True),
        ({"a": [1, {"b": [2]}]}, 3, False),
        ([[[[]]]], 4, True),
        ([[[[]]]], 3, False),
    ],
)
def test_depth_counts_arrays_and_objects(value, depth, within):
    assert json_depth_within(value, depth) is within


def test_a_body_past_the_depth_is_400_at_any_depth():
    assert isinstance(json_body_load(nested(32), max_depth=32)["params"], list)  # 32 levels: kept
    for levels in (33, 1000, 100_000):  # 100,000: past orjson's own 1,024 too
        with pytest.raises(InvalidRequest) as caught:
            json_body_load(nested(levels), max_depth=32)
        assert caught.value.code == "invalid_body"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/training-jobs"),
        ("post", "/v1/api-keys"),
        ("patch", "/v1/tenant"),
        ("post", "/v1/inference-jobs"),
    ],
)
def test_deep_bodies_are_400_on_every_json_endpoint(api, method, path):
    response = getattr(api, method)(path, nested(1000), content_type="application/json")
    error = assert_error(response, 400, "invalid_request_error", "invalid_body")
    assert "32 levels" in error["message"]
