"""What granian runs in each web process: maas's WSGI application behind a small RSGI adapter.

granian parses HTTP in Rust and hands each request to this process's event loop (RSGI,
granian's own interface, the leanest it has). Here each request:

1. has its body read first, asynchronously, into a spool (maas.admission.BodySpool: memory up
   to 1 MB, then a temporary file), so that a client sending slowly holds no one; a body whose
   Content-Length is over the cap is not read at all: the application answers 413 from the
   length, and granian closes the connection after it;
2. then runs through `maas.wsgi.application`, synchronously, in the loop's thread. A process
   therefore runs one request at a time, in the order they arrived, and never two threads at
   once: measured, every request handed to a thread of its own (granian's WSGI with threads,
   gunicorn's gthread) cost 150-250 µs more CPU, in GIL hand-offs, than this (docs/serving.md);
3. if the view asks to wait (`Prefer: wait=N`, maas.waiting), is parked: awaited here, its
   condition checked every 0.2 s between other requests, and run again when it holds or the
   time is up. Waiting clients hold no thread and no CPU to speak of;
4. answers in one piece, or for a streamed answer (downloads) chunk by chunk, with other
   requests run between chunks; with `Connection: close` when the body was left unread, or
   when this process holds more than its share of kept connections (maas.balance).

Django's guard against database calls inside an event loop (SynchronousOnlyOperation) is meant
for code that would block a loop other coroutines need; here blocking is the design (the loop
exists to park waits and read bodies between requests, and no request is ever suspended in the
middle of Django), so maas.web turns it off for the web processes (DJANGO_ALLOW_ASYNC_UNSAFE).
"""

import asyncio
import contextvars
import io
import os
import sys
import time
from collections.abc import Callable, Iterable

from maas.wsgi import application as wsgi_application  # first: it sets Django up

# isort: split
from maas.admission import BodySpool, access_log, body_cap, body_unsized, error_answer
from maas.balance import LoadShare
from maas.logging import new_request_id, request_id_var
from maas.waiting import (
    DEFER,
    RERUN,
    WAIT_POLL_SECONDS,
    BodyRequested,
    DeferredBody,
    WaitRequested,
    wait_mode_reset,
    wait_mode_set,
)

# A body up to this size is read into memory in one piece before the request runs; a larger
# one (an upload) is read in chunks into a spool.
SMALL_BODY_BYTES = 256 * 1024
_SPECIAL_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}

Answer = tuple[int, list[tuple[str, str]], Iterable[bytes]]


def environ_from(scope) -> dict:
    """The WSGI environ of an RSGI scope (PEP 3333), without its body."""
    path = scope.path
    if not path.isascii():  # WSGI strings carry the URL's bytes as latin-1 characters
        path = path.encode("utf-8").decode("latin-1")
    host, _, port = scope.server.rpartition(":")
    client, _, client_port = scope.client.rpartition(":")
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": host or "localhost",
        "SERVER_PORT": port if port.isdigit() else "80",  # a unix socket has none
        "SERVER_PROTOCOL": "HTTP/" + scope.http_version,
        "REMOTE_ADDR": client,
        "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    for name, value in scope.headers.items():
        key = _SPECIAL_HEADERS.get(name) or "HTTP_" + name.upper().replace("-", "_")
        if key in environ:  # a header sent twice: one value, as WSGI servers join them
            environ[key] += "," + value
        else:
            environ[key] = value
    return environ


def body_prepare(environ: dict) -> bool:
    """Sets `wsgi.input` before the first run (the module's docstring, step 1): a small body
    is read now, a large one is deferred; False when the body is over the cap and will never
    be read, after which the connection must close."""
    length = environ.get("CONTENT_LENGTH")
    if length is None and not body_unsized(environ):
        environ["wsgi.input"] = io.BytesIO()  # no body
        return True
    if length is not None:  # granian has refused any that is not a byte count
        declared = int(length)
        if declared > body_cap(environ.get("CONTENT_TYPE", "")):
            environ["wsgi.input"] = io.BytesIO()  # refused from its length, never read
            return False
        if declared <= SMALL_BODY_BYTES:
            return True  # read by the caller, in one piece
    environ["wsgi.input"] = DeferredBody()
    return True


async def body_read(environ: dict, proto) -> bool:
    """Reads the body into a spool for the request's second run (maas.waiting.BodyRequested);
    False if it went past the cap (the rest is left unread)."""
    spool = BodySpool(body_cap(environ.get("CONTENT_TYPE", "")))
    async for chunk in proto:
        spool.write(chunk)
        if not spool.want():
            break
    spool.install(environ)
    return spool.size <= spool.cap


async def parked(ready: Callable[[], bool], deadline: float) -> None:
    """Returns once `ready()` or at `deadline`, awaiting in between (other requests run)."""
    while True:
        try:
            if ready():
                return
        except Exception:  # the request's second run meets the error and answers it
            return
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(WAIT_POLL_SECONDS, left))


class Server:
    """The RSGI application (granian's `--interface rsgi`); one per web process."""

    def __init__(self, application: Callable) -> None:
        self.application = application
        self.load = LoadShare()
        # Every request runs in this one context, not in its task's copy: inside a running
        # loop Django keeps its database connections per context (asgiref's Local), so in a
        # fresh copy each request would open a connection of its own. Requests never run
        # in it at the same time (one at a time, never suspended midway).
        self.context = contextvars.copy_context()

    def __rsgi_init__(self, loop) -> None:
        # See the module's docstring: Django code runs in the loop's thread on purpose.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        access_log.start()  # lines written in batches, between requests

        def flush() -> None:
            access_log.flush()
            self.load.tick()
            loop.call_later(access_log.FLUSH_SECONDS, flush)

        loop.call_later(access_log.FLUSH_SECONDS, flush)

    def __rsgi_del__(self, loop) -> None:
        access_log.flush()

    async def __rsgi__(self, scope, proto) -> None:
        environ = environ_from(scope)
        whole = body_prepare(environ)
        if "wsgi.input" not in environ:
            environ["wsgi.input"] = io.BytesIO(await proto())
        try:
            answer = self.context.run(self._run, environ, DEFER)
        except WaitRequested as wait:
            await parked(wait.ready, wait.deadline)
            environ["wsgi.input"].seek(0)
            answer = self.context.run(self._run, environ, RERUN)
        except BodyRequested:
            whole = await body_read(environ, proto)
            answer = self.context.run(self._run, environ, RERUN)
        status, headers, result = answer
        if not whole or isinstance(environ["wsgi.input"], DeferredBody):
            # Answered with (some of) the body unread: the connection closes after the
            # answer, and the answer says so.
            headers = [*headers, ("Connection", "close")]
        elif self.load.seen(scope.client):  # more connections here than a fair share
            headers = [*headers, ("Connection", "close")]
        await self._send(proto, status, headers, result)

    def _run(self, environ: dict, wait_mode: str) -> Answer:
        token = wait_mode_set(wait_mode)
        try:
            return self._call(environ)
        finally:
            wait_mode_reset(token)

    def _call(self, environ: dict) -> Answer:
        started: list = []

        def start_response(status: str, headers: list, exc_info=None) -> None:
            started[:] = [int(status[:3]), headers]

        try:
            result = self.application(environ, start_response)
        except Exception as exc:  # the contract's 500, never a dropped connection
            token = request_id_var.set(new_request_id())
            try:
                answer = error_answer(exc, None)
                answer["X-Request-Id"] = request_id_var.get()
            finally:
                request_id_var.reset(token)
            headers = [*answer.headers.items(), ("Content-Length", str(len(answer.content)))]
            return answer.status_code, headers, [answer.content]
        return started[0], started[1], result

    async def _send(self, proto, status: int, headers: list, result: Iterable[bytes]) -> None:
        if isinstance(result, list):  # the hot path's answer, and every error
            proto.response_bytes(status, headers, b"".join(result))
            return
        run = self.context.run
        try:
            if not getattr(result, "streaming", False):
                proto.response_bytes(status, headers, run(b"".join, result))
                return
            transport = proto.response_stream(status, headers)
            chunks = run(iter, result)
            # Each chunk made in the requests' context, in turn with other requests, and sent.
            while (chunk := run(next, chunks, None)) is not None:
                if chunk:
                    await transport.send_bytes(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                run(close)  # Django's end of request (request_finished)


application = Server(wsgi_application)
