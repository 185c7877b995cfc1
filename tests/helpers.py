"""Helpers the tests share (import them; fixtures live in conftest.py)."""

import requests


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
