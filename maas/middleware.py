"""Request-wide plumbing that runs before any view: request ids, access log, body size cap."""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from maas.errors import ErrorType, error_http_response
from maas.logging import accept_request_id, request_id_var

access_log = logging.getLogger("maas.access")


class RequestIdMiddleware:
    """Gives every request an id (a sane incoming `X-Request-Id`, else a new one), puts it in the
    logs' context and on the response, and writes one structured access-log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.access_log = settings.MAAS_ACCESS_LOG

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = accept_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
            response["X-Request-Id"] = request_id
            if self.access_log:
                access_log_write(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(token)


def access_log_write(request: HttpRequest, status: int, started: float) -> None:
    """The request's access-log line; `started` is its time.perf_counter() on arrival."""
    principal = getattr(request, "maas_principal", None)
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "tenant_id": principal.tenant_id if principal else None,
        },
    )


class BodySizeLimitMiddleware:
    """Refuses a body larger than the cap from its Content-Length, before anything reads it.

    JSON bodies get MAAS_MAX_JSON_BODY_BYTES; multipart uploads the largest plan's upload size
    (the tenant's own limit is enforced by the upload endpoint). Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE still guards bodies sent without a Content-Length.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.json_limit = settings.MAAS_MAX_JSON_BODY_BYTES
        self.upload_limit = settings.MAAS_MAX_UPLOAD_BODY_BYTES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = body_size_refusal(request, self.json_limit, self.upload_limit)
        return refusal or self.get_response(request)


def body_size_refusal(
    request: HttpRequest, json_limit: int, upload_limit: int
) -> HttpResponse | None:
    """A 400 or 413 answer when the request's Content-Length is no byte count or over the cap."""
    raw = request.META.get("CONTENT_LENGTH")
    if not raw:
        return None
    try:
        length = int(raw)
        if length < 0:
            raise ValueError
    except ValueError:
        message = f"Content-Length {raw!r} is not a byte count."
        return error_http_response(400, ErrorType.INVALID_REQUEST, "bad_request", message)
    multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
    limit = upload_limit if multipart else json_limit
    if length > limit:
        message = (
            f"The request body is {length} bytes; the most this endpoint accepts is "
            f"{limit} bytes. Send less per request."
        )
        return error_http_response(413, ErrorType.INVALID_REQUEST, "request_too_large", message)
    return None
