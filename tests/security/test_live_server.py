"""Attacks and careless clients against a live server (maas.web, as the Procfile runs it):
every answer is in the contract's error shape with the right status, and none is a 5xx.
docs/security.md lists what each test here shows."""

import io
import json
from urllib.parse import urlsplit

import pytest
import requests

from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import RawClient, assert_error

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(module_server):
    return ApiKeyFactory(tenant=TenantFactory()).raw


def call(url, key, method, path, **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if key:
        headers["Authorization"] = f"Bearer {key}"
    response = requests.request(method, url + path, headers=headers, timeout=30, **kwargs)
    assert response.status_code < 500, response.text
    return response


def port(url: str) -> int:
    return urlsplit(url).port


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


JSON_ENDPOINTS = [
    ("POST", "/v1/training-jobs", "params"),
    ("POST", "/v1/api-keys", "name"),
    ("PATCH", "/v1/tenant", "spend_limit"),
    ("POST", "/v1/inference-jobs", "model"),
]


@pytest.mark.parametrize(("method", "path", "field"), JSON_ENDPOINTS)
@pytest.mark.parametrize("levels", [33, 1000, 50_000])
def test_deeply_nested_bodies_are_400(module_server, key, method, path, field, levels):
    body = f'{{"{field}": {nested(levels)}}}'
    response = call(
        module_server, key, method, path, data=body, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_request_error", "invalid_body")


@pytest.mark.parametrize(("method", "path", "field"), JSON_ENDPOINTS)
@pytest.mark.parametrize(
    "value",
    [
        10**400,  # an integer no column holds
        "1e400",  # a number that overflows to infinity, sent as text
        "x" * 1_000_000,
        "\u0000nul",  # PostgreSQL text cannot hold NUL
        "\ud83d\ude00 名前 \u202e",  # emoji, CJK, a right-to-left override
        {"$ne": None},
        [None] * 10_000,
        True,
    ],
)
def test_odd_values_are_400_or_taken(module_server, key, method, path, field, value):
    data = f'{{"{field}": 1e400}}' if value == "1e400" else json.dumps({field: value})
    response = call(
        module_server, key, method, path, data=data, headers={"Content-Type": "application/json"}
    )
    if response.status_code >= 400:
        body = response.json()
        assert set(body["error"]) == {"type", "code", "message", "param", "request_id"}
        assert body["error"]["type"] in ("invalid_request_error", "not_found_error")


def test_a_chunked_body_is_read(module_server, key):
    body = json.dumps({"name": "chunked", "scopes": ["read"]}).encode()
    response = call(
        module_server,
        key,
        "POST",
        "/v1/api-keys",
        data=iter([body[:10], body[10:]]),  # a generator: requests sends it chunked
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "chunked"


def test_a_chunked_body_over_the_cap_is_413_and_the_connection_closes(module_server, key):
    client = RawClient(port(module_server))
    head = (
        "POST /v1/api-keys HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {key}\r\n\r\n"
    ).encode()
    client.sock.sendall(head)
    chunk = b"x" * (1024 * 1024)
    try:
        for _ in range(11):  # 11 MB, past the 10 MB JSON cap
            client.sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    except OSError:
        pass  # the server may stop reading once it has answered
    status, headers, body = client.answer()
    assert status == 413 and body["error"]["type"] == "invalid_request_error"
    assert headers["connection"] == "close"
    client.close()


def test_a_multipart_body_over_the_tenant_limit_is_413_and_says_close(module_server):
    key = ApiKeyFactory(tenant=TenantFactory(plan="free")).raw  # 10 MB uploads
    response = call(
        module_server,
        key,
        "POST",
        "/v1/datasets",
        files={"file": ("big.csv", io.BytesIO(b"a\n" + b"1\n" * 6_000_000))},
    )
    assert_error(response, 413, "invalid_request_error")
    assert response.headers["Connection"] == "close"


def test_a_slow_body_is_read_whole(module_server, key):
    import time

    body = json.dumps({"name": "slow", "scopes": ["read"]}).encode()
    client = RawClient(port(module_server))
    client.sock.sendall(
        (
            f"POST /v1/api-keys HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n"
            f"Content-Type: application/json\r\nAuthorization: Bearer {key}\r\n\r\n"
        ).encode()
    )
    for i in range(0, len(body), 8):
        client.sock.sendall(body[i : i + 8])
        time.sleep(0.05)
    status, _, answer = client.answer()
    assert status == 201 and answer["name"] == "slow", answer
    client.close()


@pytest.mark.parametrize(
    ("request_head", "status", "code"),
    [
        ("GET /" + "a" * 5000 + " HTTP/1.1\r\nHost: localhost\r\n\r\n", 414, "uri_too_long"),
        ("GET /v1/tenant?q=" + "a" * 5000 + " HTTP/1.1\r\nHost: localhost\r\n\r\n", 414, None),
        ("FOO /v1/tenant HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, "method_not_allowed"),
        ("TRACE /v1/tenant HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, "method_not_allowed"),
    ],
)
def test_refusals_before_any_view_are_in_the_error_shape(module_server, request_head, status, code):
    client = RawClient(port(module_server))
    client.sock.sendall(request_head.encode())
    got, headers, body = client.answer()
    assert got == status and headers["content-type"] == "application/json"
    assert set(body["error"]) == {"type", "code", "message", "param", "request_id"}
    assert body["error"]["type"] == "invalid_request_error"
    if code:
        assert body["error"]["code"] == code
    client.close()


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (
            "GET /v1/tenant HTTP/1.1\r\nHost: localhost\r\n"
            + "".join(f"X-H{i}: v\r\n" for i in range(101))
            + "\r\n",
            431,
        ),
        ("GET /v1/tenant HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n", 400),
        ("GARBAGE\r\n\r\n", 400),
        ("POST /v1/api-keys HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n", 400),
    ],
)
def test_what_is_not_http_is_refused_by_the_web_server_and_closed(
    module_server, request_head, status
):
    # More than 100 header fields, or a request that does not parse as HTTP/1.1: granian answers
    # before maas reads anything (no body, no request id; docs/security.md) and closes.
    client = RawClient(port(module_server))
    client.sock.sendall(request_head.encode())
    got, headers, _ = client.answer()
    assert got == status and headers["connection"] == "close"
    assert client.closed_by_server()


def test_a_large_header_within_the_servers_limits_reaches_maas(module_server):
    client = RawClient(port(module_server))
    client.send("/v1/tenant", headers="X-Big: " + "y" * 9000 + "\r\n")
    status, _, body = client.answer()
    assert status == 401 and body["error"]["code"] == "missing_api_key"
    client.close()


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/v1/nope",
        "/v1/datasets/..%2f..%2fetc%2fpasswd",
        "/v1/datasets/%00",
        "/v1/models/%00/predict",
        "/v1/api-keys/key_%00",
        "/v1/training-jobs/%00/events",
        "/v1/models/mdl_x/versions/%00",
        "/v1/models/%E2%80%AE/predict",
        "/v1/models/" + "m" * 3000 + "/predict",
        "/admin/../v1/tenant/x",
    ],
)
def test_odd_paths_are_404_in_the_error_shape(module_server, key, path):
    response = call(module_server, key, "GET", path)
    assert response.status_code in (404, 405), response.text
    body = response.json()
    assert set(body["error"]) == {"type", "code", "message", "param", "request_id"}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_methods_a_route_does_not_take_are_405_with_allow(module_server, key, method):
    response = call(module_server, key, method, "/v1/api-keys")
    assert_error(response, 405, "invalid_request_error", "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_a_replayed_key_creation_never_shows_the_secret(module_server):
    tenant = TenantFactory()
    first_admin, second_admin = (ApiKeyFactory(tenant=tenant).raw for _ in range(2))
    body = {"name": "deploy", "scopes": ["read"]}
    headers = {"Idempotency-Key": "create-deploy-key"}
    first = call(module_server, first_admin, "POST", "/v1/api-keys", json=body, headers=headers)
    assert first.status_code == 201 and first.json()["api_key"].startswith("mk_")
    for admin in (first_admin, second_admin):
        again = call(module_server, admin, "POST", "/v1/api-keys", json=body, headers=dict(headers))
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == {**first.json(), "api_key": None}
        assert first.json()["api_key"] not in again.text


def test_keys_cannot_mint_stronger_keys(module_server):
    tenant = TenantFactory()
    predict_only = ApiKeyFactory(tenant=tenant, scopes=["predict"]).raw
    response = call(module_server, predict_only, "POST", "/v1/api-keys", json={"scopes": ["admin"]})
    assert_error(response, 403, "permission_error", "insufficient_scope")
    admin_only = ApiKeyFactory(tenant=tenant, scopes=["admin"]).raw
    response = call(module_server, admin_only, "POST", "/v1/api-keys", json={"scopes": ["predict"]})
    error = assert_error(response, 403, "permission_error", "insufficient_scope")
    assert error["param"] == "scopes"
    response = call(module_server, admin_only, "POST", "/v1/api-keys", json={"scopes": ["admin"]})
    assert response.status_code == 201


def test_two_uploads_of_one_length_under_one_key_are_409(module_server, key):
    headers = {"Idempotency-Key": "upload-1"}

    def upload(content: bytes) -> requests.Response:
        files = {"file": ("t.csv", io.BytesIO(content))}
        return call(module_server, key, "POST", "/v1/datasets", files=files, headers=dict(headers))

    assert upload(b"a,b\n1,2\n3,4\n").status_code == 201
    assert upload(b"a,b\n1,2\n3,4\n").headers["Idempotent-Replayed"] == "true"
    assert_error(upload(b"a,b\n5,6\n7,8\n"), 409, "conflict_error", "idempotency_key_reused")


@pytest.mark.parametrize("pk", ["\u0000", "ds_\u0000x", "x" * 100, True, None, 1.5])
def test_a_forged_cursor_is_400_whatever_it_holds(module_server, key, pk):
    import base64

    raw = json.dumps(["2026-01-01T00:00:00+00:00", pk]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = call(module_server, key, "GET", "/v1/datasets", params={"cursor": cursor})
    error = assert_error(response, 400, "invalid_request_error")
    assert error["param"] == "cursor"


@pytest.mark.parametrize(
    "content",
    [
        b"a\x00b,c\n1,2\n3,4\n",  # a NUL in a column name
        b"a,c\n\x00,2\n3,4\n",  # and in a value
        b'{"a\\u0000": 1}\n{"a\\u0000": 2}\n',  # JSON Lines: an escaped NUL in a key
        b"\xff\xfe,\x80\n1,2\n",  # not UTF-8
    ],
)
def test_odd_files_are_400_or_taken(module_server, key, content):
    name = "t.jsonl" if content.startswith(b"{") else "t.csv"
    files = {"file": (name, io.BytesIO(content))}
    response = call(module_server, key, "POST", "/v1/datasets", files=files)
    if response.status_code != 201:
        assert_error(response, 400, "invalid_request_error")
