"""Every error the API answers, in one shape (API.md "Errors").

`{"error": {"type", "code", "message", "param", "request_id"}}` for every non-2xx answer, whether
it comes from our code, from DRF (validation, parsing), from Django (unknown routes, bad requests)
or from a bug (500, logged with its traceback, never shown to the client). `error_parts` is the one
place an exception becomes that answer; DRF is known here only for its exception classes.
"""

import logging
from enum import StrEnum
from typing import Any

import orjson
from django.core.exceptions import DisallowedHost, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf

from maas.logging import current_request_id

log = logging.getLogger("maas.errors")


class ErrorType(StrEnum):
    INVALID_REQUEST = "invalid_request_error"  # 400, 405, 406, 413, 415
    AUTHENTICATION = "authentication_error"  # 401
    PERMISSION = "permission_error"  # 403
    NOT_FOUND = "not_found_error"  # 404
    CONFLICT = "conflict_error"  # 409
    SPEND_LIMIT = "spend_limit_error"  # 402
    RATE_LIMIT = "rate_limit_error"  # 429
    API = "api_error"  # 5xx


class ApiError(Exception):
    """An error our code raises on purpose; the pipeline renders it in the contract's shape."""

    status_code = 400
    error_type = ErrorType.INVALID_REQUEST
    default_code = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.headers = headers or {}


class InvalidRequest(ApiError):
    pass


class MethodNotAllowed(ApiError):
    status_code = 405
    default_code = "method_not_allowed"


class UnsupportedMediaType(ApiError):
    status_code = 415
    default_code = "unsupported_media_type"


class PayloadTooLarge(ApiError):
    status_code = 413
    default_code = "request_too_large"


class UriTooLong(ApiError):
    status_code = 414
    default_code = "uri_too_long"


class AuthenticationError(ApiError):
    status_code = 401
    error_type = ErrorType.AUTHENTICATION
    default_code = "invalid_api_key"


class Forbidden(ApiError):
    status_code = 403
    error_type = ErrorType.PERMISSION
    default_code = "insufficient_scope"


class NotFound(ApiError):
    status_code = 404
    error_type = ErrorType.NOT_FOUND
    default_code = "resource_missing"


class Conflict(ApiError):
    status_code = 409
    error_type = ErrorType.CONFLICT
    default_code = "conflict"


class SpendLimitReached(ApiError):
    status_code = 402
    error_type = ErrorType.SPEND_LIMIT
    default_code = "spend_limit_reached"


class RateLimited(ApiError):
    status_code = 429
    error_type = ErrorType.RATE_LIMIT
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None, **kwargs):
        super().__init__(message, code=code, **kwargs)
        self.headers["Retry-After"] = str(max(1, int(retry_after)))


def error_body(
    error_type: str, code: str, message: str, param: str | None = None
) -> dict[str, dict[str, Any]]:
    return {
        "error": {
            "type": str(error_type),
            "code": code,
            "message": message,
            "param": param,
            "request_id": current_request_id(),
        }
    }


def error_http_response(
    status: int, error_type: str, code: str, message: str, param: str | None = None
) -> HttpResponse:
    """The error shape for Django's own error views and the Stripe webhook (outside the
    admission pipeline)."""
    body = orjson.dumps(error_body(error_type, code, message, param))
    return HttpResponse(body, status=status, content_type="application/json")


# --- DRF validation errors: the first problem, with the path of the field that has it ----------

_VALIDATION_CODES = {"required": "parameter_missing", "unknown": "parameter_unknown"}


def _first_error(detail: Any, path: str = "") -> tuple[str | None, drf.ErrorDetail | str]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                sub = path
            elif isinstance(key, int):  # ListField errors are keyed by index
                sub = f"{path}[{key}]"
            elif path:
                sub = f"{path}.{key}"
            else:
                sub = str(key)
            if value:
                return _first_error(value, sub)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                if value:
                    return _first_error(value, f"{path}[{index}]")
            else:
                return path or None, value
    return path or None, detail


def _validation_error(exc: drf.ValidationError) -> tuple[str, str, str | None]:
    param, detail = _first_error(exc.detail)
    drf_code = getattr(detail, "code", None) or "invalid"
    code = _VALIDATION_CODES.get(drf_code, "parameter_invalid")
    message = str(detail)
    if param:
        message = f"{param}: {message}"
    return code, message, param


# --- the handler -------------------------------------------------------------------------------


def describe_exception(
    exc: Exception, request: HttpRequest | None
) -> tuple[int, str, str, str, str | None]:
    """(status, type, code, message, param) for any exception."""
    if isinstance(exc, ApiError):
        return exc.status_code, exc.error_type, exc.code, exc.message, exc.param
    if isinstance(exc, drf.ValidationError):
        code, message, param = _validation_error(exc)
        return 400, ErrorType.INVALID_REQUEST, code, message, param
    if isinstance(exc, drf.ParseError):
        message = f"The request body could not be parsed ({exc.detail}). Send valid JSON."
        return 400, ErrorType.INVALID_REQUEST, "invalid_body", message, None
    if isinstance(exc, drf.NotAuthenticated):
        message = "No API key provided. Send it as 'Authorization: Bearer mk_...'."
        return 401, ErrorType.AUTHENTICATION, "missing_api_key", message, None
    if isinstance(exc, drf.AuthenticationFailed):
        return 401, ErrorType.AUTHENTICATION, "invalid_api_key", str(exc.detail), None
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return 403, ErrorType.PERMISSION, "permission_denied", "You may not do this.", None
    if isinstance(exc, drf.NotFound | Http404):
        path = request.path if request is not None else ""
        return 404, ErrorType.NOT_FOUND, "resource_missing", f"Nothing found at {path}.", None
    if isinstance(exc, drf.MethodNotAllowed):
        method = request.method if request is not None else ""
        return (
            405,
            ErrorType.INVALID_REQUEST,
            "method_not_allowed",
            _method_message(method, request),
            None,
        )
    if isinstance(exc, drf.UnsupportedMediaType):
        message = (
            f"{exc.detail} Send 'Content-Type: application/json' (multipart/form-data for uploads)."
        )
        return 415, ErrorType.INVALID_REQUEST, "unsupported_media_type", message, None
    if isinstance(exc, drf.NotAcceptable):
        message = "This endpoint answers application/json; fix the Accept header."
        return 406, ErrorType.INVALID_REQUEST, "not_acceptable", message, None
    if isinstance(exc, drf.Throttled):
        return 429, ErrorType.RATE_LIMIT, "rate_limited", str(exc.detail), None
    if isinstance(exc, RequestDataTooBig):
        message = "The request body is too large. Send fewer rows per request."
        return 413, ErrorType.INVALID_REQUEST, "request_too_large", message, None
    if isinstance(exc, DjangoValidationError):
        return 400, ErrorType.INVALID_REQUEST, "parameter_invalid", "; ".join(exc.messages), None
    if isinstance(exc, DisallowedHost):
        message = "The Host header names a host this server does not answer for (ALLOWED_HOSTS)."
        return 400, ErrorType.INVALID_REQUEST, "host_not_allowed", message, None
    if isinstance(exc, SuspiciousOperation):
        return 400, ErrorType.INVALID_REQUEST, "bad_request", "The request was malformed.", None
    if isinstance(exc, drf.APIException):
        return exc.status_code, status_error_type(exc.status_code), "error", str(exc.detail), None
    return 500, ErrorType.API, "internal_error", _internal_message(), None


def _method_message(method: str, request: HttpRequest | None) -> str:
    return f"{method} is not allowed on {request.path if request is not None else 'this path'}."


def _internal_message() -> str:
    return (
        "Something went wrong on our side; it has been logged. Retry later, and quote "
        f"request id {current_request_id()} if it persists."
    )


def status_error_type(status: int) -> ErrorType:
    return {
        401: ErrorType.AUTHENTICATION,
        402: ErrorType.SPEND_LIMIT,
        403: ErrorType.PERMISSION,
        404: ErrorType.NOT_FOUND,
        409: ErrorType.CONFLICT,
        429: ErrorType.RATE_LIMIT,
    }.get(status, ErrorType.API if status >= 500 else ErrorType.INVALID_REQUEST)


def error_parts(
    exc: Exception, request: HttpRequest | None, allow: str | None = None
) -> tuple[int, dict[str, dict[str, Any]], dict[str, str]]:
    """(status, body, headers) of the contract's answer to `exc`; every renderer of an error
    (the admission pipeline, DRF's exception handler, Django's error views) starts here.
    `allow`: the methods the path takes, for a 405's Allow header. A 5xx is logged here, once,
    with its traceback; the client sees only the request id."""
    status, error_type, code, message, param = describe_exception(exc, request)
    if status >= 500:
        path = request.path if request is not None else "?"
        log.error("unhandled exception in %s", path, exc_info=exc)
    headers: dict[str, str] = dict(exc.headers) if isinstance(exc, ApiError) else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="maas"'
    if isinstance(exc, drf.Throttled) and exc.wait:
        headers["Retry-After"] = str(int(exc.wait))
    if status == 405 and allow:
        headers["Allow"] = allow
    return status, error_body(error_type, code, message, param), headers


# --- Django-level handlers (outside DRF views) -------------------------------------------------


@csrf_exempt  # a POST to an unknown API path is a 404, not a complaint about a CSRF cookie
def not_found_view(request: HttpRequest, exception: Exception | None = None, **kwargs: Any):
    message = f"Unknown path: {request.method} {request.path}. The API is described at /docs/."
    return error_http_response(404, ErrorType.NOT_FOUND, "route_not_found", message)


def bad_request_view(request: HttpRequest, exception: Exception | None = None):
    status, error_type, code, message, param = describe_exception(exception or Exception(), request)
    if status >= 500:
        status, error_type, code, message = (
            400,
            ErrorType.INVALID_REQUEST,
            "bad_request",
            "Bad request.",
        )
    return error_http_response(status, error_type, code, message, param)


def permission_denied_view(request: HttpRequest, exception: Exception | None = None):
    return error_http_response(
        403, ErrorType.PERMISSION, "permission_denied", "You may not do this."
    )


def server_error_view(request: HttpRequest):
    return error_http_response(500, ErrorType.API, "internal_error", _internal_message())
