"""The client's rules with the HTTP edge mocked (httpx.MockTransport): retries that reuse one
Idempotency-Key, Retry-After, typed errors, auto-paging and the long poll. tests/e2e/ runs it
against a live server."""

import io

import httpx
import pytest
from maas_client import (
    APIConnectionError,
    APIServerError,
    AuthenticationError,
    Maas,
    MaasError,
    NotFoundError,
    RateLimitError,
)
from maas_client import _client as client_module


@pytest.fixture
def sleeps(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    return slept


def _client(handler, **kwargs) -> Maas:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Maas(api_key="mk_test", base_url="http://maas.test", http_client=http, **kwargs)


def _error(status: int, kind: str, code: str, headers=None) -> httpx.Response:
    body = {
        "error": {
            "type": kind,
            "code": code,
            "message": f"{code} happened",
            "param": None,
            "request_id": "req_abc",
        }
    }
    return httpx.Response(status, json=body, headers=headers or {})


DATASET = {
    "id": "ds_1",
    "object": "dataset",
    "name": "t.csv",
    "format": "csv",
    "size_bytes": 1,
    "n_rows": 1,
    "sha256": "0",
    "columns": [],
    "images": None,
    "created_at": "x",
}
KEY = {
    "id": "key_1",
    "object": "api_key",
    "name": "ci",
    "prefix": "mk_x",
    "scopes": ["read"],
    "created_at": "2026-01-01T00:00:00Z",
    "last_used_at": None,
    "expires_at": None,
    "revoked_at": None,
    "api_key": "mk_secret",
}


def test_a_post_retried_after_500s_sends_one_idempotency_key(sleeps):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        if len(seen) <= 2:
            return _error(500, "api_error", "internal_error")
        return httpx.Response(201, json=KEY)

    created = _client(handler).api_keys.create(name="ci", scopes=["read"])
    assert created.api_key == "mk_secret"
    assert len(seen) == 3 and len(set(seen)) == 1
    assert len(sleeps) == 2 and 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_each_logical_post_gets_its_own_key(sleeps):
    seen = []

    def handler(request):
        seen.append(request.headers["Idempotency-Key"])
        return httpx.Response(201, json=KEY)

    client = _client(handler)
    client.api_keys.create(name="a", scopes=["read"])
    client.api_keys.create(name="b", scopes=["read"], idempotency_key="mine")
    assert seen[0] != seen[1] and seen[1] == "mine"


def test_429_waits_what_retry_after_says_then_raises_when_retries_run_out(sleeps):
    calls = []

    def handler(request):
        calls.append(request)
        return _error(429, "rate_limit_error", "rate_limited", {"Retry-After": "3"})

    with pytest.raises(RateLimitError) as raised:
        _client(handler, max_retries=2).datasets.get("ds_1")
    assert len(calls) == 3 and sleeps == [3.0, 3.0]
    assert raised.value.status == 429 and raised.value.request_id == "req_abc"


def test_a_4xx_is_not_retried_and_is_typed(sleeps):
    calls = []

    def handler(request):
        calls.append(request)
        return _error(404, "not_found_error", "not_found")

    with pytest.raises(NotFoundError) as raised:
        _client(handler).models.get("mdl_nope")
    error = raised.value
    assert len(calls) == 1 and not sleeps
    assert (error.status, error.type, error.code, error.request_id) == (
        404,
        "not_found_error",
        "not_found",
        "req_abc",
    )


def test_a_401_is_an_authentication_error():
    def handler(request):
        assert request.headers["Authorization"] == "Bearer mk_test"
        return _error(401, "authentication_error", "invalid_api_key")

    with pytest.raises(AuthenticationError):
        _client(handler).usage.get()


def test_a_body_that_is_not_the_error_shape_is_still_typed_by_status(sleeps):
    with pytest.raises(APIServerError) as raised:
        _client(lambda r: httpx.Response(502, text="<html>bad gateway</html>")).pricing.get()
    assert raised.value.status == 502 and raised.value.type == "api_error"


def test_connection_errors_are_retried_then_raised(sleeps):
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ConnectError("refused")

    with pytest.raises(APIConnectionError, match="Is the server running"):
        _client(handler).datasets.get("ds_1")
    assert len(calls) == 3


def test_lists_page_through_next_cursor():
    pages = {
        None: {"data": [KEY | {"id": "key_1"}, KEY | {"id": "key_2"}], "next_cursor": "c2"},
        "c2": {"data": [KEY | {"id": "key_3"}], "next_cursor": None},
    }

    def handler(request):
        assert request.url.params.get("limit") == "2"
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    keys = _client(handler).api_keys.list(limit=2)
    assert [k.id for k in keys] == ["key_1", "key_2", "key_3"]


def test_wait_long_polls_with_prefer_wait_until_the_job_finishes():
    job = {
        "id": "inj_1",
        "object": "inference_job",
        "status": "running",
        "progress": 0.5,
        "model": "mdl_1",
        "version": 1,
        "dataset": "ds_1",
        "request_counts": {"total": 2, "completed": 1, "failed": 0},
        "error": None,
        "usage": {"compute_seconds": "0"},
        "created_at": "x",
        "started_at": None,
        "finished_at": None,
    }
    prefers = []

    def handler(request):
        prefers.append(request.headers.get("Prefer"))
        done = len(prefers) >= 3
        return httpx.Response(
            200, json=job | ({"status": "succeeded", "progress": 1.0} if done else {})
        )

    finished = _client(handler).inference_jobs.wait("inj_1")
    assert finished.status == "succeeded"
    assert prefers == [None, "wait=60", "wait=60"]


def test_the_key_comes_from_the_environment_or_the_call_says_how(monkeypatch):
    monkeypatch.delenv("MAAS_API_KEY", raising=False)
    with pytest.raises(MaasError, match="MAAS_API_KEY"):
        Maas()
    monkeypatch.setenv("MAAS_API_KEY", "mk_env")
    monkeypatch.setenv("MAAS_BASE_URL", "http://elsewhere:9000/")
    client = Maas()
    assert client.api_key == "mk_env" and client.base_url == "http://elsewhere:9000"


class _Recording(io.BytesIO):
    """A file that remembers how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.name = "t.csv"
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def test_uploads_read_the_file_in_chunks_never_whole():
    data = b"a,b\n" + b"1,2\n" * 100_000
    file = _Recording(data)
    received = {}

    def handler(request):
        received["body"] = request.content
        return httpx.Response(201, json=DATASET)

    assert _client(handler).datasets.upload(file).id == "ds_1"
    assert data in received["body"]
    assert len(file.sizes) > 5 and all(0 < size <= 1 << 16 for size in file.sizes)


def test_downloads_land_whole_or_not_at_all(tmp_path):
    content = b"id,prediction\n" + b"1,0\n" * 10_000

    def handler(request):
        return httpx.Response(200, content=content, headers={"X-Content-SHA256": "0" * 64})

    client = _client(handler)
    out = client.inference_jobs.download_results("inj_1", tmp_path / "r.csv")
    assert out.read_bytes() == content
    with pytest.raises(MaasError, match="sha256"):
        client.models.download_onnx("mdl_1", 1, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "m.onnx.part").exists()
