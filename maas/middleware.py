"""Django's chain: the admission pipeline's request-wide steps (maas.admission), for every route
that is not the predict hot path (which calls the same functions itself, maas.handlers)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from maas.admission import body_size_check, error_answer, request_close, request_open


class RequestIdMiddleware:
    """Gives every request an id, puts it in the logs' context and on the response, and writes
    one structured access-log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        opened = request_open(request)
        response = None
        try:
            response = self.get_response(request)
            return response
        finally:
            request_close(request, response, opened)


class BodySizeLimitMiddleware:
    """Refuses a body larger than the cap from its Content-Length, before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            body_size_check(request)
        except Exception as exc:
            return error_answer(exc, request).as_http_response()
        return self.get_response(request)
