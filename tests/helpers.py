"""Helpers the tests share (import them; fixtures live in conftest.py)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import requests
from django.core.management import call_command


class HttpApi:
    """A client over real HTTP (requests) against the live test server."""

    def __init__(self, base_url: str, key: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def assert_error(response, status: int, error_type: str, code: str | None = None) -> dict:
    """Checks the contract's error shape and returns the error object."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"type", "code", "message", "param", "request_id"}, error
    assert error["type"] == error_type, error
    if code is not None:
        assert error["code"] == code, error
    assert error["message"], error
    assert error["request_id"] == response.headers["X-Request-Id"]
    return error


def rate_limit_window_ahead(seconds: float = 5) -> None:
    """Waits for the next rate-limit window (a minute) if fewer than `seconds` are left of this
    one: a test that reads counts over several requests sees them start again otherwise."""
    from maas.ratelimit import WINDOW_SECONDS

    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < seconds:
        time.sleep(left + 0.1)


def dead_worker() -> str:
    """A worker name (host:pid) of a process on this host that has ended."""
    import socket
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}"


def live_worker() -> str:
    """The worker name (host:pid) of this very process, which is alive."""
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


class OpenApiDocument:
    """docs/openapi.json, for checking real answers against it (what the tests send and get is
    the contract's). OpenAPI 3.0's `nullable` is read as JSON Schema's `null` type."""

    def __init__(self, path=None):
        from pathlib import Path

        path = path or Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
        self.document = json.loads(Path(path).read_text())
        self.operations = {
            op["operationId"]: op
            for item in self.document["paths"].values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        }

    def _resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            target = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _json_schema(self, node):
        node = self._resolve(node)
        if isinstance(node, list):
            return [self._json_schema(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: self._json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable"):
            return {"anyOf": [out, {"type": "null"}]}
        return out

    def check(self, operation_id: str, response) -> None:
        """Fails unless the answer's status, content type and body are the document's."""
        import jsonschema

        responses = self.operations[operation_id]["responses"]
        status = str(response.status_code)
        assert status in responses, (operation_id, status, sorted(responses))
        answer = self._resolve(responses[status])
        for name, header in answer.get("headers", {}).items():
            if self._resolve(header).get("required"):
                assert name in response.headers, (operation_id, status, name)
        content = answer.get("content")
        if not content:
            return
        media_type = response.headers["Content-Type"].split(";")[0]
        assert media_type in content, (operation_id, media_type, sorted(content))
        if media_type == "application/json":
            schema = self._json_schema(content[media_type]["schema"])
            jsonschema.validate(response.json(), schema)


class RawClient:
    """A raw HTTP/1.1 connection: requests written as bytes, answers read one at a time."""

    def __init__(self, port: int, timeout: float = 10):
        import socket

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, path: str, body: bytes = b"", headers: str = "") -> None:
        self.sock.sendall(self.request(path, body, headers))

    @staticmethod
    def request(path: str, body: bytes = b"", headers: str = "") -> bytes:
        method = "POST" if body else "GET"
        head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n"
        return f"{head}{headers}\r\n".encode() + body

    def answer(self) -> tuple[int, dict[str, str], dict]:
        status = int(self.file.readline().split()[1])
        headers = {}
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, value = line.decode().split(":", 1)
            headers[name.lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(self.file.readline(), 16):
                body += self.file.read(size + 2)[:-2]
            self.file.readline()
        else:
            body = self.file.read(int(headers["content-length"]))
        is_json = status == 200 or headers.get("content-type") == "application/json"
        return status, headers, json.loads(body) if is_json else {}

    def closed_by_server(self) -> bool:
        return self.file.read(1) == b""

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def web_start(env: dict[str, str], workers: int = 1, log: Path | None = None) -> tuple:
    """maas's web server on 127.0.0.1 as the Procfile starts it (`python -m maas.web`), once
    /healthz answers: (the process, its base URL). `log`: a file for its output."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "DJANGO_SETTINGS_MODULE": "maas.settings",
        "MAAS_ACCESS_LOG": "false",
        **env,
        "PORT": str(port),
        "MAAS_WEB_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
    }
    out = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "maas.web"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=out,
        stderr=out,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=5)
            return process, url
        except requests.RequestException:  # not listening, or still loading the app
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)


def web_stop(process) -> None:
    """SIGTERM (granian's graceful stop), then the whole group, so no worker outlives a test."""
    import contextlib
    import os
    import signal
    import subprocess

    process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def new_tenant() -> dict:
    out = StringIO()
    call_command("create_tenant", "Acme", "--plan", "enterprise", stdout=out)
    return json.loads(out.getvalue())


def wait_for(api, job_id: str, statuses: set[str], timeout: float = 180) -> dict:
    collection = "inference-jobs" if job_id.startswith("inj_") else "training-jobs"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/v1/{collection}/{job_id}", headers={"Prefer": "wait=5"}).json()
        if job["status"] in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def digits_zip(limit: int | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """scikit-learn's bundled digits (1,797 8x8 gray images, 10 classes) as a ZIP of PNGs, one
    folder per digit (`7/0042.png`): an image dataset made offline. `extra`: more members."""
    import io
    import zipfile

    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (pixels, label) in enumerate(zip(digits.images, digits.target, strict=True)):
            if limit is not None and i >= limit:
                break
            png = io.BytesIO()
            Image.fromarray((pixels * 255 / 16).astype(np.uint8), mode="L").save(png, "PNG")
            archive.writestr(f"{label}/{i:04d}.png", png.getvalue())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def png_bytes(width: int = 8, height: int = 8, value: int = 128) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height), value).save(out, "PNG")
    return out.getvalue()


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent; `statuses` are answered
    in turn (then 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.delays: list[float] = []  # seconds to wait before answering, in turn
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.delays:
                    time.sleep(receiver.delays.pop(0))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FaultProxy:
    """A real HTTP proxy on 127.0.0.1 in front of `upstream` that forwards every request and,
    for the first `fail_posts` POSTs, throws the server's answer away and answers 500 instead:
    the worst case for a retrying client (the server did the work, the client never heard).
    `posts` records each POST's (path, Idempotency-Key)."""

    def __init__(self, upstream: str, fail_posts: int = 2) -> None:
        self.upstream = upstream.rstrip("/")
        self.fail_posts = fail_posts
        self.posts: list[tuple[str, str | None]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body(self) -> bytes:
                if "Content-Length" in self.headers:
                    return self.rfile.read(int(self.headers["Content-Length"]))
                chunks = []
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                return b"".join(chunks)

            def _forward(self) -> None:
                body = self._body()
                skip = {"host", "content-length", "transfer-encoding", "connection"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                answer = requests.request(
                    self.command,
                    proxy.upstream + self.path,
                    data=body,
                    headers=headers,
                    timeout=120,
                )
                status, content = answer.status_code, answer.content
                kept = {
                    k: v
                    for k, v in answer.headers.items()
                    if k.lower() in ("content-type", "x-request-id", "retry-after")
                }
                if self.command == "POST":
                    proxy.posts.append((self.path, self.headers.get("Idempotency-Key")))
                    if proxy.fail_posts > 0:
                        proxy.fail_posts -= 1
                        status = 500
                        error = {"type": "api_error", "code": "internal_error",
                                 "message": "The proxy lost the answer.", "param": None,
                                 "request_id": kept.get("X-Request-Id")}  # fmt: skip
                        content = json.dumps({"error": error}).encode()
                        kept = {"Content-Type": "application/json"}
                self.send_response(status)
                for key, value in kept.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
