"""The WSGI application: the predict route on a short path, the rest on Django's.

The admin (and the console to come) need sessions, CSRF, messages, clickjacking protection
and static files: seven middleware that do nothing for a Bearer-key API call to a CSRF-exempt
view. Requests to `/v1/models/{id}/predict` therefore go through MAAS_HOT_PATH_MIDDLEWARE only
(request ids and the access log, the body-size cap, the security headers), straight to the view
the URLconf names for that path: no URL resolution per request, no request_started signal
(whose handler checks every database connection; request_finished still runs when the server
closes the response, as for any Django response). ~100 µs less per prediction in process
(docs/serving.md); the view and its error handling are the same as for every other request.
"""

import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import resolve
from django.utils.module_loading import import_string

HOT_PATH = re.compile(r"^/v1/models/(?P<id>[^/]+)/predict$")


class HotPathHandler(WSGIHandler):
    """A WSGIHandler for the predict route: MAAS_HOT_PATH_MIDDLEWARE around its view.

    Those are plain `__call__` middleware (no process_view or template hooks), so the chain is
    built the way Django builds one, without the hook lists, around a direct call of the view
    that `resolve()` found for the route once."""

    def __init__(self, default: WSGIHandler):
        self.default = default  # for a path only the raw PATH_INFO matched
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._view = None
        handler = convert_exception_to_response(self._call_view)
        for path in reversed(settings.MAAS_HOT_PATH_MIDDLEWARE):
            try:
                middleware = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler

    def _call_view(self, request: HttpRequest) -> HttpResponse:
        if self._view is None:
            self._view = resolve(request.path_info).func
        return self._view(request, **request.maas_route_kwargs)

    def serve(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = self.request_class(environ)
        route = HOT_PATH.match(request.path_info)  # decoded as Django decodes paths
        if route is None:
            return self.default(environ, start_response)
        request.maas_route_kwargs = route.groupdict()
        response = self._middleware_chain(request)
        response._handler_class = self.__class__  # request_finished names it on close()
        response._resource_closers.append(request.close)
        if not response.streaming and not response.has_header("Content-Length"):
            # As CommonMiddleware does on the long chain: without it gunicorn sends the body
            # chunked, one more write (and a few more bytes) per answer.
            response.headers["Content-Length"] = str(len(response.content))
        status = f"{response.status_code} {response.reason_phrase}"
        start_response(status, list(response.items()))
        return response


class Application:
    def __init__(self) -> None:
        self.default = WSGIHandler()
        self.hot = HotPathHandler(self.default)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if HOT_PATH.match(environ.get("PATH_INFO", "")) and not environ.get("SCRIPT_NAME"):
            return self.hot.serve(environ, start_response)
        return self.default(environ, start_response)
