"""No input a client can send gets a 500: every /v1 route, every method, junk bodies and
queries, with a key that has every scope."""

import json

import pytest

from tests.e2e.test_tenant_walls import _routes
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

JUNK_BODIES = [
    None,
    {},
    [],
    "text",
    {"dataset": 1, "target": [], "algorithm": {}, "params": [1], "features": "x"},
    {"name": "x" * 10_000, "scopes": [None], "expires_at": 12, "spend_limit": {"a": 1}},
    {"inputs": [[1, 2]], "version": "latest", "model": None, "validation_split": "0.2"},
]
JUNK_QUERY = {
    "limit": "-1e9",
    "cursor": "%%%",
    "start": "2026-02-30",
    "group_by": ",,",
    "format": "x",
}


@pytest.mark.parametrize(("name", "route"), [(n, r) for n, r, _ in _routes()])
def test_junk_never_gets_a_500(api, name, route):
    path = "/" + route
    for part in ("<str:id>", "<str:n>"):
        path = path.replace(part, "x_junk")
    for method in ("get", "post", "patch", "put", "delete"):
        for body in JUNK_BODIES:
            response = api.generic(
                method.upper(), path, json.dumps(body), content_type="application/json"
            )
            assert response.status_code < 500, (method, path, body, response.content[:300])
        response = api.get(path, JUNK_QUERY)
        assert response.status_code < 500, (path, response.content[:300])


def test_junk_on_real_objects_never_gets_a_500(api, tenant):
    key = ApiKeyFactory(tenant=tenant)
    for body in JUNK_BODIES:
        for method in ("get", "post", "patch", "delete"):
            response = api.generic(
                method.upper(),
                f"/v1/api-keys/{key.pk}",
                json.dumps(body),
                content_type="application/json",
            )
            assert response.status_code < 500, (method, body)
