"""maas's web server (maas.web: granian over WSGI) as the Procfile starts it, real processes and
real sockets: kept connections, pipelining, chunked and unread bodies, answers given before a
large body, connections spread over processes, long polls beside other requests, a unix socket,
a port already in use refused, and a reload (SIGHUP) under load without a failed request."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from tests.factories import ApiKeyFactory, TenantFactory, TrainingJobFactory
from tests.helpers import RawClient, rate_limit_window_ahead

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def main_pid(log: Path) -> int:
    """The server's main process, from granian's log."""
    return next(
        int(line.split("main PID: ")[1].rstrip(")\n"))
        for line in log.read_text().splitlines()
        if "main PID: " in line
    )


def stopped_old(log: Path, count: int) -> None:
    """Waits until granian's log says `count` old processes stopped (a reload's last step)."""
    deadline = time.monotonic() + 60
    while log.read_text().count("Stopped old worker") < count:
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.2)


def test_a_kept_connection_answers_request_after_request(served):
    client = RawClient(port_of(served))
    for _ in range(3):
        client.send("/healthz")
        status, headers, body = client.answer()
        assert (status, body) == (200, {"status": "ok"})
        assert headers.get("connection") != "close"
    client.close()


def test_connection_close_from_the_client_is_honoured(served):
    client = RawClient(port_of(served))
    client.send("/healthz", headers="Connection: close\r\n")
    status, headers, _ = client.answer()
    assert status == 200 and headers["connection"] == "close"
    assert client.closed_by_server()


def test_pipelined_requests_are_answered_in_order(served):
    client = RawClient(port_of(served))
    client.sock.sendall(
        RawClient.request("/healthz")
        + RawClient.request("/v1/tenant")  # no key: 401
        + RawClient.request("/nope")
    )
    assert [client.answer()[0] for _ in range(3)] == [200, 401, 404]
    client.close()


def test_an_unread_body_is_not_taken_for_the_next_request(served):
    client = RawClient(port_of(served))
    # Refused for its missing key before the body is read: the body, which reads like a
    # request, must be skipped, and the connection must stay usable.
    client.send("/v1/api-keys", body=b"GET /v1/tenant HTTP/1.1\r\nHost: x\r\n\r\n" * 20)
    assert client.answer()[0] == 401
    client.send("/healthz")
    assert client.answer()[0] == 200
    client.close()


def test_a_chunked_body_is_read_whole(served):
    key = ApiKeyFactory(tenant=TenantFactory()).raw
    body = json.dumps({"name": "chunked", "scopes": ["read"]}).encode()
    client = RawClient(port_of(served))
    client.sock.sendall(
        (
            "POST /v1/api-keys HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: application/json\r\nAuthorization: Bearer {key}\r\n\r\n"
        ).encode()
        + b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]))
        + b"0\r\n\r\n"
    )
    status, _, answer = client.answer()
    assert status == 201 and answer["name"] == "chunked"
    client.send("/healthz")  # and the connection goes on
    assert client.answer()[0] == 200
    client.close()


def test_an_answer_before_a_large_body_closes_the_connection(served):
    key = ApiKeyFactory(tenant=TenantFactory()).raw
    client = RawClient(port_of(served))
    client.sock.sendall(  # the head only: 20 MB announced, past the 10 MB JSON cap
        (
            "POST /v1/api-keys HTTP/1.1\r\nHost: localhost\r\nContent-Length: 20000000\r\n"
            f"Content-Type: application/json\r\nAuthorization: Bearer {key}\r\n\r\n"
        ).encode()
    )
    status, headers, body = client.answer()  # without sending a byte of the body
    assert status == 413 and body["error"]["code"] == "request_too_large"
    assert headers["connection"] == "close"
    assert client.closed_by_server()


def test_a_url_over_the_limit_is_414_in_the_error_shape(served):
    response = requests.get(f"{served}/v1/datasets?x={'a' * 5000}", timeout=10)
    assert response.status_code == 414
    error = response.json()["error"]
    assert error["code"] == "uri_too_long" and error["request_id"]
    assert response.headers["X-Request-Id"] == error["request_id"]


def test_connections_are_spread_over_the_processes(serve, tmp_path):
    log = tmp_path / "web.log"
    url = serve(workers=2, log=log, MAAS_ACCESS_LOG="true")
    clients = [RawClient(port_of(url)) for _ in range(16)]  # kept, as wrk keeps them
    for client in clients:
        client.send("/healthz")
        assert client.answer()[0] == 200
    for client in clients:
        client.close()

    def access_lines() -> list[dict]:
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        return [line for line in lines if line.get("logger") == "maas.access"]

    deadline = time.monotonic() + 10
    while len(access_lines()) < 16:  # written in batches, a quarter of a second apart
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)
    assert len({line["pid"] for line in access_lines()}) == 2  # SO_REUSEPORT spread them


def test_long_polls_leave_the_process_free_for_other_requests(serve):
    tenant = TenantFactory()
    key = ApiKeyFactory(tenant=tenant).raw
    now = timezone.now()
    job = TrainingJobFactory(tenant=tenant, status="running", started_at=now, heartbeat_at=now)
    url = serve(workers=1)  # one process: any blocking would show
    auth = {"Authorization": f"Bearer {key}"}
    finished: list[float] = []

    def wait() -> None:
        answer = requests.get(
            f"{url}/v1/training-jobs/{job.pk}", headers={**auth, "Prefer": "wait=8"}, timeout=30
        )
        assert answer.json()["status"] == "running"
        finished.append(time.monotonic())

    waiters = [threading.Thread(target=wait) for _ in range(8)]
    for waiter in waiters:
        waiter.start()
    time.sleep(1)  # the eight are held by the server
    answered = []
    for _ in range(20):
        assert requests.get(f"{url}/v1/tenant", headers=auth, timeout=30).status_code == 200
        answered.append(time.monotonic())
    assert not finished  # every other request was answered while all eight still waited
    for waiter in waiters:
        waiter.join()
    assert len(finished) == 8 and min(finished) > max(answered)


def test_a_slow_upload_leaves_the_process_free_and_is_stored_whole(serve):
    key = ApiKeyFactory(tenant=TenantFactory()).raw
    url = serve(workers=1)
    rows = b"".join(b"%d,%d\n" % (i, i % 7) for i in range(100_000))  # ~1 MB: read apart
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"a,b\n"
        + rows
        + f"\r\n--{boundary}--\r\n".encode()
    )
    client = RawClient(port_of(url), timeout=60)
    client.sock.sendall(
        (
            f"POST /v1/datasets HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Authorization: Bearer {key}\r\n\r\n"
        ).encode()
        + body[:1000]
    )
    time.sleep(1)  # the upload stalls; the one process answers others meanwhile
    for _ in range(5):
        answer = requests.get(
            f"{url}/v1/tenant", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        assert answer.status_code == 200
    client.sock.sendall(body[1000:])
    status, _, dataset = client.answer()
    assert status == 201 and dataset["n_rows"] == 100_000
    client.close()


def test_a_long_poll_is_counted_once_against_the_rate_limit(serve):
    tenant = TenantFactory()
    key = ApiKeyFactory(tenant=tenant).raw
    now = timezone.now()
    job = TrainingJobFactory(tenant=tenant, status="running", started_at=now, heartbeat_at=now)
    url = serve(workers=1)
    auth = {"Authorization": f"Bearer {key}"}

    def remaining(headers: dict | None = None) -> int:
        answer = requests.get(
            f"{url}/v1/training-jobs/{job.pk}", headers={**auth, **(headers or {})}, timeout=30
        )
        assert answer.status_code == 200
        return int(answer.headers["X-RateLimit-Remaining"])

    rate_limit_window_ahead()  # the three requests take over a second
    first = remaining()
    waited = remaining({"Prefer": "wait=1"})  # suspended, parked, run again: one request
    after = remaining()
    assert (first - waited, waited - after) == (1, 1)


def test_a_second_server_on_a_port_in_use_is_refused(served, tmp_path):
    # The slot sockets set SO_REUSEPORT, with which a second server would bind the port too
    # and take a share of the first one's connections without a word.
    port = port_of(served)
    env = {
        **os.environ,
        "MAAS_DATA_DIR": str(tmp_path / "second"),
        "PORT": str(port),
        "MAAS_WEB_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
    }
    second = subprocess.Popen(
        [sys.executable, "-m", "maas.web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = second.communicate(timeout=60)
    finally:  # if it did start, its worker processes with it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(second.pid, signal.SIGKILL)
    assert second.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use" in stderr
    assert requests.get(f"{served}/healthz", timeout=10).status_code == 200


def test_it_serves_on_a_unix_socket(tmp_path):
    path = tmp_path / "maas.sock"
    env = {
        **os.environ,
        "MAAS_DATA_DIR": str(tmp_path / "data"),
        "MAAS_WEB_UDS": str(path),
        "WEB_CONCURRENCY": "1",
        "MAAS_ACCESS_LOG": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "maas.web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            client = RawClient.__new__(RawClient)
            client.sock = socket.socket(socket.AF_UNIX)
            client.sock.settimeout(10)
            try:
                client.sock.connect(str(path))
                break
            except OSError:
                client.sock.close()
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        client.file = client.sock.makefile("rb")
        for _ in range(2):
            client.send("/healthz")
            status, _, body = client.answer()
            assert (status, body) == (200, {"status": "ok"})
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


class LoadLoop:
    """Clients calling the API for as long as it runs: some open a connection per request,
    some keep theirs. A request counts as failed if it gets no 200. A kept connection that the
    server closes while idle may be closed as the client sends on it; the client then sends
    the request again on a new connection, as RFC 9112 (9.3.1) lets a client do with a request
    that got no answer, and as every HTTP library's pool does; those are counted apart."""

    def __init__(self, url: str, key: str):
        self.url, self.auth = url, {"Authorization": f"Bearer {key}"}
        self.ok = self.resent = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._fresh) for _ in range(2)]
        self._threads += [threading.Thread(target=self._kept) for _ in range(2)]

    def __enter__(self) -> "LoadLoop":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _count(self, response: requests.Response) -> None:
        if response.status_code == 200:
            self.ok += 1
        else:
            self.failed.append(f"{response.status_code} {response.text[:200]}")

    def _fresh(self) -> None:
        while not self._stop.is_set():
            try:
                self._count(requests.get(f"{self.url}/v1/tenant", headers=self.auth, timeout=30))
            except requests.RequestException as exc:
                self.failed.append(repr(exc))

    def _kept(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                response = session.get(f"{self.url}/v1/tenant", headers=self.auth, timeout=30)
            except requests.ConnectionError:
                # Closed under the request before any answer: sent again once, anew.
                self.resent += 1
                session.close()
                session = requests.Session()
                try:
                    response = session.get(f"{self.url}/v1/tenant", headers=self.auth, timeout=30)
                except requests.RequestException as exc:
                    self.failed.append(repr(exc))
                    continue
            self._count(response)


def test_a_reload_under_load_fails_no_request(serve, tmp_path):
    key = ApiKeyFactory(tenant=TenantFactory(requests_per_minute=10**9)).raw
    log = tmp_path / "web.log"
    url = serve(workers=2, log=log)
    master = main_pid(log)
    with LoadLoop(url, key) as load:
        time.sleep(1)
        before = load.ok
        os.kill(master, signal.SIGHUP)  # new processes first, then the old ones stop
        stopped_old(log, 2)
        time.sleep(1)
    assert load.failed == []
    assert load.ok > before > 0
    spawned = log.read_text().count("Spawning worker")
    assert spawned == 4  # two at start, two on reload


def test_a_client_connected_before_a_reload_is_answered_after_it(serve, tmp_path):
    # It connected as its process was about to stop and sends only once that process is gone.
    # Its connection waited in the kernel for its first bytes (TCP_DEFER_ACCEPT), on a socket
    # the main process keeps (maas.web.SlotSockets); the new process answers it. With a socket
    # per process, the old process had accepted it and closed it unanswered on stopping.
    log = tmp_path / "web.log"
    url = serve(workers=1, log=log)
    client = RawClient(port_of(url))
    os.kill(main_pid(log), signal.SIGHUP)
    stopped_old(log, 1)
    client.send("/healthz")
    assert client.answer()[0] == 200
    client.close()


def test_a_stop_lets_a_request_in_flight_finish(serve, tmp_path):
    tenant = TenantFactory()
    key = ApiKeyFactory(tenant=tenant).raw
    now = timezone.now()
    job = TrainingJobFactory(tenant=tenant, status="running", started_at=now, heartbeat_at=now)
    log = tmp_path / "web.log"
    url = serve(workers=1, log=log)
    master = main_pid(log)
    answers = []

    def wait() -> None:
        headers = {"Authorization": f"Bearer {key}", "Prefer": "wait=3"}
        answers.append(
            requests.get(f"{url}/v1/training-jobs/{job.pk}", headers=headers, timeout=30)
        )

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(1)
    os.kill(master, signal.SIGTERM)
    waiter.join(timeout=30)
    assert [a.status_code for a in answers] == [200]
    assert answers[0].json()["status"] == "running"
    deadline = timezone.now() + timedelta(seconds=30)
    while "shutdown completed" not in log.read_text():
        assert timezone.now() < deadline
        time.sleep(0.1)
