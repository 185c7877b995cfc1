"""Uploading datasets over real HTTP, as curl -F would."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)


def new_tenant(*args: str) -> dict:
    out = StringIO()
    call_command("create_tenant", *args, stdout=out)
    return json.loads(out.getvalue())


def test_upload_list_get_delete_over_http(http, settings):
    settings.MAAS_USAGE_SINK = "database"
    api = http(new_tenant("Acme", "--plan", "standard")["api_key"])
    csv = "x,y,label\n" + "".join(f"{i},{i * 0.5},{i % 2}\n" for i in range(500))
    created = api.post("/v1/datasets", files={"file": ("points.csv", csv)}, data={"name": "points"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["n_rows"] == 500 and body["name"] == "points"
    assert [c["dtype"] for c in body["columns"]] == ["number", "number", "number"]
    assert api.get(f"/v1/datasets/{body['id']}").json()["sha256"] == body["sha256"]
    bad = api.post("/v1/datasets", files={"file": ("bad.csv", "a,b\n1,2\n3\n")})
    assert bad.status_code == 400 and "Line 3" in bad.json()["error"]["message"]
    assert api.delete(f"/v1/datasets/{body['id']}").status_code == 200
    assert api.get("/v1/datasets").json()["data"] == []


def test_over_the_limit_is_413_over_http(http):
    api = http(new_tenant("Tiny", "--plan", "free")["api_key"])
    big = "a\n" + "1\n" * 6_000_000  # 12 MB, over the free plan's 10 MB
    response = api.post("/v1/datasets", files={"file": ("big.csv", big)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
