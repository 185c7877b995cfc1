"""The WSGI application: the predict route on a path of its own, the rest on Django's.

The admin (and the console to come) need sessions, CSRF, messages, clickjacking protection
and static files: seven middleware that do nothing for a Bearer-key API call to a CSRF-exempt
view. A request to `/v1/models/{id}/predict` therefore goes through `HotPath`, which does what
an API call needs of that chain in a fixed order (request id and access log, the body-size cap,
Django's SecurityMiddleware, the 500 answer for an exception) around a direct call of the lean
view that the URLconf names for the path, and writes the view's LeanResponse to the server as
it is. No URL resolution per request, no request_started signal (whose handler checks every
database connection), and of request_finished's work only the closing of old database
connections. What each step saved is in docs/serving.md.
"""

import re
from collections.abc import Callable, Iterable

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.db import close_old_connections
from django.http import HttpRequest
from django.middleware.security import SecurityMiddleware
from django.urls import resolve

from maas.admission import (
    Answer,
    LeanResponse,
    body_size_check,
    body_unsized_spool,
    error_answer,
    request_close,
    request_open,
)
from maas.errors import UriTooLong
from maas.ids import ID_PATTERN

# The id as the URLconf's `oid` converter takes it: a path that names no possible model goes
# to Django's chain, whose router answers 404.
HOT_PATH = re.compile(rf"^/v1/models/(?P<id>{ID_PATTERN})/predict$")
# Its URL pattern as Django's resolver names it, for the metrics' `route` label (maas.metrics).
HOT_ROUTE = "/v1/models/<oid:id>/predict"
# The longest path and query string taken (bytes as decoded): no URL of the API comes near it,
# and an answer in the contract's shape tells a client that sent one what went wrong.
URI_MAX_BYTES = 4094


class HotPath:
    """The predict route: the plumbing of Django's API chain, written out, around its view."""

    def __init__(self, default: WSGIHandler):
        self.default = default  # for a path only the raw PATH_INFO matched
        self.security = SecurityMiddleware(lambda request: None)  # its two hooks, called here
        self._view: Callable[..., Answer] | None = None

    def _answer(self, request: HttpRequest, kwargs: dict[str, str]) -> Answer:
        body_size_check(request)
        refusal = self.security.process_request(request)  # the HTTPS redirect, if set
        if refusal is not None:
            return refusal
        if self._view is None:
            view = resolve(request.path_info).func
            self._view = getattr(view, "maas_lean", view)  # a lean view's own answer
        return self._view(request, **kwargs)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = WSGIRequest(environ)
        route = HOT_PATH.match(request.path_info)  # decoded as Django decodes paths
        if route is None:
            return self.default(environ, start_response)
        opened = request_open(request)
        request.maas_route = HOT_ROUTE  # not resolved per request, so named here
        response = None
        try:
            try:
                response = self._answer(request, route.groupdict())
            except Exception as exc:  # logged, the contract's 500
                response = error_answer(exc, request)
            response = self.security.process_response(request, response)
        finally:
            request_close(request, response, opened)
        status = f"{response.status_code} {response.reason_phrase}"
        if isinstance(response, LeanResponse):
            # Written as it is: nothing left to stream, so the request ends here, and so does
            # the one part of Django's end-of-request work (request_finished) that this path
            # needs: closing database connections past their age or left in error. The other
            # receivers reset a per-request URLconf and close caches, neither of which this
            # path uses; sending the signal cost ~15 µs a request.
            content = response.content
            headers = [*response.headers.items(), ("Content-Length", str(len(content)))]
            close_old_connections()
            start_response(status, headers)
            return [content]
        response._handler_class = self.__class__  # request_finished names it on close()
        response._resource_closers.append(request.close)
        if not response.streaming and not response.has_header("Content-Length"):
            # As CommonMiddleware does on the long chain: without it gunicorn sends the body
            # chunked, one more write (and a few more bytes) per answer.
            response.headers["Content-Length"] = str(len(response.content))
        start_response(status, list(response.items()))
        return response


def uri_too_long(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """414 in the contract's shape, with a request id and an access-log line."""
    request = WSGIRequest(environ)
    opened = request_open(request)
    response = None
    try:
        limit = f"{URI_MAX_BYTES:,}"
        response = error_answer(UriTooLong(f"The URL is longer than {limit} bytes."), request)
    finally:
        request_close(request, response, opened)
    content = response.content
    start_response(
        f"{response.status_code} {response.reason_phrase}",
        [*response.headers.items(), ("Content-Length", str(len(content)))],
    )
    return [content]


class Application:
    def __init__(self) -> None:
        self.default = WSGIHandler()
        self.hot = HotPath(self.default)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if len(path) + len(environ.get("QUERY_STRING", "")) > URI_MAX_BYTES:
            return uri_too_long(environ, start_response)
        body_unsized_spool(environ)  # before Django reads CONTENT_LENGTH: chunked bodies
        if HOT_PATH.match(path) and not environ.get("SCRIPT_NAME"):
            return self.hot(environ, start_response)
        return self.default(environ, start_response)
