"""A gunicorn worker that keeps HTTP/1.1 connections open, in one thread.

gunicorn's `sync` worker closes every connection after one answer, so each API call from a
client that keeps its connection (every HTTP library's session does) pays for a TCP handshake,
an accept and gunicorn's graceful close, which waits for the client's FIN: on this 2-core
machine that is most of what a 1-row prediction costs (docs/serving.md). Its `gthread` worker
keeps connections, but hands each request from a poller thread to a pool thread and back, and
that costs maas more than the kept connection saves (measured: docs/serving.md).

This worker does what `sync` does, one request at a time in the process's only thread, and
keeps the connection registered with its selector between requests instead of closing it.
Like `sync`, it reads a request once the socket is readable and a client that stalls mid-request
holds the worker until gunicorn's `--timeout` restarts it: run it behind a proxy that buffers
requests where clients are not trusted, as gunicorn advises for `sync`. A connection idle for
`--keep-alive` seconds (gunicorn's default 2) is closed; `--keep-alive 0` closes after every
answer, as `sync` does. Use: `gunicorn -k maas.server.KeepAliveWorker`.
"""

import contextlib
import errno
import os
import selectors
import socket
import ssl
import sys
import time
from datetime import datetime

from gunicorn import http, util
from gunicorn import sock as gsock
from gunicorn.http import body, wsgi
from gunicorn.workers import base

# How often the worker tells the arbiter it is alive: a file's mtime, a syscall each time.
NOTIFY_EVERY_S = 0.5
# Up to this size a body is copied behind the header block to go out in one send.
COALESCE_MAX_BYTES = 256 * 1024
# A body left unread up to this size is drained to keep the connection; a larger one closes it.
DRAIN_MAX_BYTES = 64 * 1024


class _Connection:
    __slots__ = ("addr", "idle_until", "parser", "server", "sock")

    def __init__(self, sock: socket.socket, addr, server, idle_until: float):
        self.sock, self.addr, self.server = sock, addr, server
        self.parser = None
        self.idle_until = idle_until


class _OneSend:
    """The answer's socket as gunicorn's Response sees it: the header block, always its first
    write, is held and sent with the first body bytes, so that a small answer leaves in one
    send (one TCP segment, one wake-up of the client) instead of two. Anything else asked of
    the socket (sendfile, fileno) sends what is held first."""

    __slots__ = ("first", "held", "sock")

    def __init__(self, sock: socket.socket):
        self.sock, self.first, self.held = sock, True, b""

    def sendall(self, data: bytes) -> None:
        if self.first:
            self.first, self.held = False, data
            return
        if self.held:
            if len(data) > COALESCE_MAX_BYTES:  # not worth copying a large body for
                self.sock.sendall(self.held)
            else:
                data = self.held + data
            self.held = b""
        self.sock.sendall(data)

    def flush(self) -> None:
        if self.held:
            self.sock.sendall(self.held)
            self.held = b""

    def __getattr__(self, name: str):
        self.flush()
        return getattr(self.sock, name)


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it could not parse (a request line over
    --limit-request-line is 414, headers over their limits 431, malformed ones 400), in the
    contract's error shape instead of its HTML page, with a request id of its own."""
    import orjson

    from maas.errors import error_body, status_error_type
    from maas.logging import new_request_id, request_id_var

    request_id = new_request_id()
    token = request_id_var.set(request_id)
    try:
        code = reason.lower().replace(" ", "_")
        error_type = status_error_type(status_int)
        message = f"{reason}: {mesg}" if mesg else reason
        body = orjson.dumps(error_body(error_type, code, message))
    finally:
        request_id_var.reset(token)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Request-Id: {request_id}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin1") + body)


def body_unread(req) -> float:
    """How many bytes of the request's body the application has not read (infinity for a
    chunked body not read to its end: its size is unknown)."""
    reader = getattr(req.body, "reader", None)
    if isinstance(reader, body.LengthReader):
        return reader.length
    if isinstance(reader, body.ChunkedReader) and reader.parser is not None:
        return float("inf")
    return 0


class KeepAliveWorker(base.Worker):
    def handle_error(self, req, client, addr, exc) -> None:
        # gunicorn's own handling (status, log lines), written out by write_json_error: the
        # worker runs one request at a time, so swapping gunicorn's writer for the call is safe.
        html_writer, util.write_error = util.write_error, write_json_error
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            util.write_error = html_writer

    def init_process(self) -> None:
        self.selector = selectors.DefaultSelector()
        # Kept-alive connections by when they go idle for too long, oldest first: a dict keeps
        # insertion order, and a connection is re-inserted after each answer. Keyed by the
        # connection, whose socket object changes if TLS wraps it.
        self.idle: dict[_Connection, None] = {}
        super().init_process()

    def run(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
            self.selector.register(listener, selectors.EVENT_READ, listener)
        self.selector.register(self.PIPE[0], selectors.EVENT_READ, None)
        wait = min(1.0, self.timeout or 1.0)
        notified = 0.0
        while self.alive:
            now = time.monotonic()
            if now - notified >= NOTIFY_EVERY_S:
                self.notify()
                notified = now
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
                self._close_idle(now)
            for key, _ in self.selector.select(wait):
                data = key.data
                if isinstance(data, _Connection):
                    self._serve(data)
                elif data is None:  # a signal woke us
                    os.read(self.PIPE[0], 4096)
                else:
                    self._accept(data)
        for connection in list(self.idle):
            self._close(connection)

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, addr = listener.accept()
        except OSError as e:  # the other worker took it, or the client gave up
            if e.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        client.setblocking(True)
        util.close_on_exec(client)
        # TCP_NODELAY comes from the listener, as gunicorn sets it there (not on a unix socket).
        idle_until = time.monotonic() + max(self.cfg.keepalive, 1)
        connection = _Connection(client, addr, listener.getsockname(), idle_until)
        self.idle[connection] = None
        self.selector.register(client, selectors.EVENT_READ, connection)

    def _close_idle(self, now: float) -> None:
        for connection in list(self.idle):
            if connection.idle_until > now:
                break  # the rest went idle later
            self._close(connection)

    def _close(self, connection: _Connection, graceful: bool = False) -> None:
        self.idle.pop(connection, None)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(connection.sock)
        if graceful:
            util.close_graceful(connection.sock)
        else:
            util.close(connection.sock)

    def _serve(self, connection: _Connection) -> None:
        self.idle.pop(connection, None)
        keep = False
        req = None
        try:
            if connection.parser is None:
                if self.cfg.is_ssl:
                    connection.sock = gsock.ssl_wrap_socket(connection.sock, self.cfg)
                connection.parser = http.get_parser(self.cfg, connection.sock, connection.addr)
            while True:
                req = next(connection.parser)
                keep = self._handle_request(connection, req)
                # A request read ahead into the next one leaves its bytes in the parser, where
                # the selector cannot see them: answer it now.
                if not (keep and connection.parser.unreader.buf.getvalue()):
                    break
        except http.errors.NoMoreData as e:
            self.log.debug("Ignored premature client disconnection. %s", e)
        except StopIteration as e:
            self.log.debug("Closing connection. %s", e)
        except ssl.SSLError as e:
            if e.args[0] != ssl.SSL_ERROR_EOF:
                self.handle_error(req, connection.sock, connection.addr, e)
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except BaseException as e:
            self.handle_error(req, connection.sock, connection.addr, e)
        if keep and self.alive:
            connection.idle_until = time.monotonic() + self.cfg.keepalive
            self.idle[connection] = None
        else:
            self._close(connection, graceful=True)

    def _handle_request(self, connection: _Connection, req) -> bool:
        """As gunicorn's sync worker answers a request; True if the connection stays open."""
        environ = {}
        resp = None
        try:
            self.cfg.pre_request(self, req)
            request_start = datetime.now()
            resp, environ = wsgi.create(
                req, connection.sock, connection.addr, connection.server, self.cfg
            )
            resp.sock = out = _OneSend(connection.sock)
            self.nr += 1
            if self.nr >= self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            if not self.alive or not self.cfg.keepalive:
                resp.force_close()

            def start_response(status, headers, exc_info=None):
                # An answer given before the body was read (a 413 from its length, a refused
                # key): draining a large rest would hold the worker, so the answer says
                # `Connection: close` and means it, instead of promising keep-alive and then
                # dropping the connection.
                if body_unread(req) > DRAIN_MAX_BYTES:
                    resp.force_close()
                return resp.start_response(status, headers, exc_info)

            respiter = self.wsgi(environ, start_response)
            try:
                if isinstance(respiter, environ["wsgi.file_wrapper"]):
                    resp.write_file(respiter)
                else:
                    for item in respiter:
                        resp.write(item)
                resp.close()
            finally:
                out.flush()
                self.log.access(resp, req, environ, datetime.now() - request_start)
                if hasattr(respiter, "close"):
                    respiter.close()
            if resp.should_close():
                return False
            # A body the application did not read would look like the next request.
            return bool(connection.parser.finish_body(deadline=time.monotonic() + 5))
        except OSError:
            util.reraise(*sys.exc_info())
        except (Exception, SystemExit):
            if resp and resp.headers_sent:
                # An answer already begun cannot be replaced by a 500 on the same socket.
                self.log.exception("Error handling request")
                raise StopIteration() from None
            raise
        finally:
            try:
                self.cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")
