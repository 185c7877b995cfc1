import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import UsageEvent
from catalog.models import Dataset
from catalog.uploads import QuotaHashingUploadHandler
from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

CSV = (
    b"age,income,city,member,label\n"
    b"34,52000.5,Paris,true,1\n51,,Lyon,false,0\n29,31000,Paris,TRUE,1\n"
)


@pytest.fixture(autouse=True)
def _database_sink(settings):
    settings.MAAS_USAGE_SINK = "database"


def upload(api, content: bytes, filename: str = "data.csv", **extra):
    return api.post(
        "/v1/datasets",
        {"file": SimpleUploadedFile(filename, content), **extra},
        format="multipart",
    )


def test_csv_upload_is_described_stored_and_metered(api, tenant):
    response = upload(api, CSV, name="customers")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("ds_") and body["object"] == "dataset"
    assert body["name"] == "customers" and body["format"] == "csv"
    assert body["n_rows"] == 3 and body["size_bytes"] == len(CSV)
    import hashlib

    assert body["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert body["columns"] == [
        {"name": "age", "dtype": "number", "distinct": 3, "missing": 0},
        {"name": "income", "dtype": "number", "distinct": 2, "missing": 1},
        {"name": "city", "dtype": "string", "distinct": 2, "missing": 0},
        {"name": "member", "dtype": "boolean", "distinct": 3, "missing": 0},
        {"name": "label", "dtype": "number", "distinct": 2, "missing": 0},
    ]
    stored = Dataset.objects.get(pk=body["id"])
    with default_storage.open(stored.file, "rb") as f:
        assert f.read() == CSV
    event = UsageEvent.objects.get(tenant=tenant, meter="data.ingested_bytes")
    assert event.quantity == len(CSV) and event.idempotency_key == f"{body['id']}:ingested_bytes"
    assert api.get(f"/v1/datasets/{body['id']}").json() == body
    assert [d["id"] for d in api.get("/v1/datasets").json()["data"]] == [body["id"]]


def test_jsonl_upload(api):
    content = b'{"x": 1.5, "y": "a", "ok": true}\n\n{"x": 2, "y": null, "ok": false, "z": 3}\n'
    body = upload(api, content, filename="rows.jsonl").json()
    assert body["format"] == "jsonl" and body["n_rows"] == 2 and body["name"] == "rows.jsonl"
    assert [(c["name"], c["dtype"], c["missing"]) for c in body["columns"]] == [
        ("x", "number", 0),
        ("y", "string", 1),
        ("ok", "boolean", 0),
        ("z", "number", 1),
    ]


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "a.csv", "empty"),
        (b"a,b\n", "a.csv", "no rows"),
        (b"a,b\n1,2\n3\n", "a.csv", "Line 3 has 1 fields but the header has 2"),
        (b"a,a\n1,2\n", "a.csv", "appears twice"),
        (b"a,b\n1,2\n\xff\xfe,3\n", "a.csv", "not valid UTF-8"),
        (b'{"a": 1}\n{"a": 2\n', "a.jsonl", "Line 2 is not valid JSON"),
        (b'{"a": 1}\n[1, 2]\n', "a.jsonl", "Line 2 is not a JSON object"),
        (b'{"a": {"b": 1}}\n', "a.jsonl", "nested dict"),
        (b"\n\n", "a.jsonl", "empty"),
    ],
)
def test_bad_files_are_400_with_the_line(api, content, filename, message):
    error = assert_error(upload(api, content, filename=filename), 400, "invalid_request_error")
    assert error["param"] == "file" and error["code"] == "invalid_file"
    assert message in error["message"]
    assert not Dataset.objects.exists() and not UsageEvent.objects.exists()


def test_no_file_field_is_400(api):
    response = api.post("/v1/datasets", {"name": "x"}, format="multipart")
    error = assert_error(response, 400, "invalid_request_error")
    assert error["param"] == "file" and "multipart/form-data" in error["message"]


def test_json_body_is_415(api):
    response = api.post("/v1/datasets", {"file": "a,b"}, format="json")
    assert_error(response, 415, "invalid_request_error")


def test_over_the_plan_limit_is_413(client_for):
    tenant = TenantFactory(max_upload_bytes=100)
    api = client_for(ApiKeyFactory(tenant=tenant))
    big = b"a,b\n" + b"1,2\n" * 20_000  # 80 kB: refused from Content-Length, body unread
    error = assert_error(upload(api, big), 413, "invalid_request_error", "request_too_large")
    assert "100 bytes" in error["message"] and error["param"] == "file"
    small_but_over = b"a,b\n" + b"1,2\n" * 40  # 164 bytes: caught while streaming
    assert_error(upload(api, small_but_over), 413, "invalid_request_error")
    assert not Dataset.objects.exists()


def test_the_upload_handler_stops_at_the_limit():
    from django.core.files.uploadhandler import StopUpload
    from django.test import RequestFactory

    handler = QuotaHashingUploadHandler(RequestFactory().post("/"), limit=10)
    handler.new_file("file", "a.csv", "text/csv", None)
    handler.receive_data_chunk(b"12345", 0)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"678901", 5)
    assert handler.exceeded and handler.received == 11


def test_delete_removes_the_file(api, django_capture_on_commit_callbacks):
    body = upload(api, CSV).json()
    path = Dataset.objects.get(pk=body["id"]).file
    assert default_storage.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/v1/datasets/{body['id']}")
    assert response.status_code == 200 and response.json()["deleted"] is True
    assert not Dataset.objects.filter(pk=body["id"]).exists()
    assert not default_storage.exists(path)
    assert_error(api.get(f"/v1/datasets/{body['id']}"), 404, "not_found_error")


def test_another_tenants_dataset_is_404(api, other_tenant, client_for):
    theirs = upload(client_for(ApiKeyFactory(tenant=other_tenant)), CSV).json()
    assert_error(api.get(f"/v1/datasets/{theirs['id']}"), 404, "not_found_error")
    assert_error(api.delete(f"/v1/datasets/{theirs['id']}"), 404, "not_found_error")
    assert Dataset.objects.filter(pk=theirs["id"]).exists()
    assert api.get("/v1/datasets").json()["data"] == []


def test_parser_streams_large_files():
    from catalog.parsing import summarize

    rows = b"".join(b"%d,%d.5,x\n" % (i, i) for i in range(200_000))
    summary = summarize(io.BytesIO(b"a,b,c\n" + rows), "csv")
    assert summary.n_rows == 200_000
    assert [c["dtype"] for c in summary.columns] == ["number", "number", "string"]
    assert summary.columns[0]["distinct"] == 1001  # capped
