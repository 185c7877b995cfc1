"""The WSGI application: the predict route on a short middleware chain, the rest on Django's.

The admin (and the console to come) need sessions, CSRF, messages, clickjacking protection
and static files: seven middleware that cost the predict path ~100 µs per request (measured
with benchmarks/serving.py) and do nothing for a Bearer-key API call to a CSRF-exempt view.
Requests to `/v1/models/{id}/predict` therefore go through MAAS_HOT_PATH_MIDDLEWARE only
(request ids and the access log, the body-size cap, the security headers); the URLconf, the
view and the error handling are the same as for every other request.
"""

import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

HOT_PATH = re.compile(r"^/v1/models/[^/]+/predict$")


class HotPathHandler(WSGIHandler):
    """A WSGIHandler whose middleware chain is MAAS_HOT_PATH_MIDDLEWARE instead of MIDDLEWARE.

    Those are plain `__call__` middleware (no process_view or template hooks), so the chain is
    built the way Django builds one, without the hook lists."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.MAAS_HOT_PATH_MIDDLEWARE):
            try:
                middleware = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class Application:
    def __init__(self) -> None:
        self.default = WSGIHandler()
        self.hot = HotPathHandler()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if HOT_PATH.match(environ.get("PATH_INFO", "")):
            return self.hot(environ, start_response)
        return self.default(environ, start_response)
