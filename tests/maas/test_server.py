"""maas.server.KeepAliveWorker under a real gunicorn: kept connections, pipelining, unread bodies,
idle timeouts, and the same answers as gunicorn's sync worker otherwise."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from maas.server import COALESCE_MAX_BYTES, _OneSend
from tests.helpers import RawClient as Client

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(*options: str, app: str = "tests.maas.server_app:app", env=None) -> tuple:
    port = _free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "-k",
            "maas.server.KeepAliveWorker",
            "-b",
            f"127.0.0.1:{port}",
            *options,
            app,
        ],
        cwd=ROOT,
        env=env or os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(process.stderr.read().decode()[-2000:]) from None
            time.sleep(0.1)
    return process, port


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    process, port = _start("-w", "1", "--keep-alive", "1")
    yield port
    _stop(process)


def test_requests_on_one_connection_are_answered_on_it(server):
    client = Client(server)
    answers = []
    for i in range(3):
        client.send("/echo", body=b"x" * (i + 1))
        answers.append(client.answer())
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert [body["read"] for _, _, body in answers] == [1, 2, 3]
    assert len({body["peer"] for _, _, body in answers}) == 1  # one client connection
    assert all(headers.get("connection") != "close" for _, headers, _ in answers)
    client.close()


def test_connection_close_from_the_client_is_honoured(server):
    client = Client(server)
    client.send("/echo", headers="Connection: close\r\n")
    status, headers, _ = client.answer()
    assert status == 200 and headers["connection"] == "close"
    assert client.closed_by_server()


def test_pipelined_requests_are_all_answered(server):
    client = Client(server)
    client.sock.sendall(Client.request("/a", b"1") + Client.request("/b") + Client.request("/c"))
    paths = [client.answer()[2]["path"] for _ in range(3)]
    assert paths == ["/a", "/b", "/c"]
    client.close()


def test_a_body_the_app_did_not_read_is_not_taken_for_the_next_request(server):
    client = Client(server)
    client.send("/unread", body=b'{"GET /evil HTTP/1.1": 1}' * 40)
    assert client.answer()[2]["read"] == 0
    client.send("/next")
    status, _, body = client.answer()
    assert (status, body["path"]) == (200, "/next")
    client.close()


def test_a_large_unread_body_closes_the_connection(server):
    client = Client(server)
    client.send("/unread", body=b"x" * 300_000)
    status, headers, _ = client.answer()
    assert (status, headers["connection"]) == (200, "close")  # said, not just done
    assert client.closed_by_server()


def test_an_idle_connection_is_closed_after_keep_alive(server):
    client = Client(server)
    client.send("/echo")
    client.answer()
    time.sleep(2.6)  # --keep-alive 1, checked every half second
    assert client.closed_by_server()


def test_many_open_connections_are_served_in_the_order_they_send(server):
    clients = [Client(server) for _ in range(40)]
    for client in reversed(clients):  # the last connected asks first
        client.send("/echo")
        assert client.answer()[0] == 200
    for client in clients:  # and every one of them again, on the same connections
        client.send("/echo")
        assert client.answer()[0] == 200
        client.close()


def test_an_application_error_is_a_500_and_the_worker_goes_on(server):
    client = Client(server)
    client.send("/boom")
    assert client.answer()[0] == 500
    assert client.closed_by_server()
    again = Client(server)
    again.send("/echo")
    assert again.answer()[0] == 200
    again.close()


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        ("/echo?" + "x" * 5000, "", 414, "uri_too_long"),
        ("/echo", "X-Big: " + "y" * 9000 + "\r\n", 431, "request_header_fields_too_large"),
        ("/echo", "Bad Header\r\n", 400, "bad_request"),
    ],
)
def test_a_request_gunicorn_cannot_read_is_refused_in_the_error_shape(
    server, path, headers, status, code
):
    client = Client(server)
    client.send(path, headers=headers)
    got, answer_headers, body = client.answer()
    assert got == status
    assert answer_headers["content-type"] == "application/json"
    error = body["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == code, error
    assert error["request_id"] == answer_headers["x-request-id"] and error["message"]
    client.close()


def test_keep_alive_zero_closes_after_every_answer_like_sync():
    process, port = _start("-w", "1", "--keep-alive", "0")
    try:
        client = Client(port)
        client.send("/echo")
        status, headers, _ = client.answer()
        assert status == 200 and headers["connection"] == "close"
        assert client.closed_by_server()
    finally:
        _stop(process)


def test_max_requests_restarts_the_worker_after_closing_its_connection():
    process, port = _start("-w", "1", "--max-requests", "2")
    try:
        client = Client(port)
        client.send("/echo")
        first = client.answer()[2]["pid"]
        client.send("/echo")
        _, headers, body = client.answer()
        assert body["pid"] == first and headers["connection"] == "close"
        assert client.closed_by_server()
        deadline = time.monotonic() + 30
        while True:  # the arbiter starts a new worker
            try:
                again = Client(port)
                again.send("/echo")
                pid = again.answer()[2]["pid"]
                break
            except (OSError, IndexError):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert pid != first
    finally:
        _stop(process)


def test_maas_serves_on_it_as_the_procfile_runs_it(tmp_path):
    env = {**os.environ, "MAAS_DATA_DIR": str(tmp_path), "MAAS_ACCESS_LOG": "false"}
    process, port = _start("-w", "1", app="maas.wsgi", env=env)
    try:
        client = Client(port)
        for _ in range(2):
            client.send("/healthz")
            status, headers, body = client.answer()
            assert status == 200 and body == {"status": "ok"} and "x-request-id" in headers
        client.send(
            "/v1/models/m_1/predict", body=b"{}", headers="Content-Type: application/json\r\n"
        )
        status, headers, _ = client.answer()  # the hot path, on the same connection
        assert status == 401 and headers["content-type"] == "application/json"
        client.close()
    finally:
        _stop(process)


class _Recorder:
    def __init__(self):
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(data)

    def fileno(self) -> int:
        return 7


def test_an_answer_leaves_in_one_send():
    sock = _Recorder()
    out = _OneSend(sock)
    out.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    assert sock.sent == []  # the header block waits for the body
    out.sendall(b"{}")
    out.sendall(b"more")
    out.flush()
    assert sock.sent == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"more"]


def test_held_headers_go_first_when_the_socket_is_used_otherwise():
    sock = _Recorder()
    out = _OneSend(sock)
    out.sendall(b"head")
    assert out.fileno() == 7 and sock.sent == [b"head"]  # sendfile writes after them
    big = _Recorder()
    out = _OneSend(big)
    out.sendall(b"head")
    out.sendall(b"x" * (COALESCE_MAX_BYTES + 1))
    assert [len(s) for s in big.sent] == [4, COALESCE_MAX_BYTES + 1]  # not copied
    empty = _Recorder()
    out = _OneSend(empty)
    out.sendall(b"head")  # a body-less answer: sent when the request ends
    out.flush()
    assert empty.sent == [b"head"]


def test_it_serves_on_a_unix_socket(tmp_path):
    path = tmp_path / "maas.sock"
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "-k",
            "maas.server.KeepAliveWorker",
            "-w",
            "1",
            "-b",
            f"unix:{path}",
            "tests.maas.server_app:app",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not path.exists():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
        client = Client.__new__(Client)
        client.sock = socket.socket(socket.AF_UNIX)
        client.sock.settimeout(10)
        client.sock.connect(str(path))
        client.file = client.sock.makefile("rb")
        for _ in range(2):  # kept open, as on TCP
            client.send("/echo")
            assert client.answer()[0] == 200
        client.close()
    finally:
        _stop(process)
