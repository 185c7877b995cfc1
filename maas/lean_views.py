"""Tenant endpoints on the hot path, without the DRF stack.

The same guarantees as TenantAPIView (maas/base_views.py), with the same precedence: API key
(401), per-tenant rate limit (429 and the X-RateLimit-* headers), scope (403), `Idempotency-Key`
on POST (replay, 409 on reuse or in flight), every error in the contract's shape. What it leaves
out is DRF's request/response machinery (~110 µs per request here, PERFORMANCE.md), which the
predict path cannot afford. With Redis the rate limit is counted after the handler has worked
(see `admit`); a 429 then replaces whatever the handler answered, and nothing was recorded. A
lean handler reaches tenant rows only through selectors that take `tenant=principal.tenant`.
"""

import logging
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

import orjson
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from maas.errors import (
    ApiError,
    AuthenticationError,
    ErrorType,
    Forbidden,
    RateLimited,
    describe_exception,
    error_body,
)
from maas.idempotency import (
    idempotency_begin,
    idempotency_complete,
    idempotency_key_from,
    idempotency_release,
    request_fingerprint,
    should_store,
)
from maas.principal import Principal
from maas.ratelimit import PendingCount, RateLimitState, StreamEntry, rate_limit_start
from maas.scopes import Scope

log = logging.getLogger("maas.errors")

Handler = Callable[..., tuple[int, dict[str, Any]]]


class LeanResponse:
    """A lean view's answer: a status, a JSON body and headers, as plain values.

    An HttpResponse checks each header's name and value for its charset as it is set and keeps
    them in a case-insensitive mapping: ~25 µs for the nine headers of an answer here, more
    than the model. The hot path (maas.handlers) hands this to the WSGI server as it is; on
    Django's own chain `as_http_response()` converts it. It offers the part of HttpResponse's
    interface that the hot path's middleware uses (item access, `setdefault`, `headers`,
    `status_code`). Header names are ours, each written in one spelling, and values are ours
    or checked before they get here (maas.logging.accept_request_id)."""

    __slots__ = ("content", "headers", "status_code")
    streaming = False

    def __init__(self, status_code: int, content: bytes, headers: dict[str, str]):
        self.status_code, self.content, self.headers = status_code, content, headers

    def __setitem__(self, name: str, value: str) -> None:
        self.headers[name] = value

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def __contains__(self, name: str) -> bool:
        return name in self.headers

    has_header = __contains__

    def setdefault(self, name: str, value: str) -> None:
        self.headers.setdefault(name, value)

    @property
    def reason_phrase(self) -> str:
        return HTTPStatus(self.status_code).phrase

    def as_http_response(self) -> HttpResponse:
        response = HttpResponse(self.content, status=self.status_code)
        for name, value in self.headers.items():
            response[name] = value
        return response


Answer = LeanResponse | HttpResponse  # an idempotent replay is stored as an HttpResponse


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> LeanResponse:
    return LeanResponse(
        status, orjson.dumps(body), {"Content-Type": "application/json", **(headers or {})}
    )


def _error_response(exc: Exception, request: HttpRequest) -> LeanResponse:
    status, error_type, code, message, param = describe_exception(exc, request)
    if status >= 500:
        log.error("unhandled exception in %s", request.path, exc_info=exc)
    headers = dict(exc.headers) if isinstance(exc, ApiError) else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="maas"'
    return json_response(status, error_body(error_type, code, message, param), headers)


class _Restart(BaseException):
    """Rows this process had cached changed while the request ran: run it again from the
    database. A BaseException, so that the `except Exception` of the handler's error handling
    lets it through and transaction.atomic rolls back whatever the first run wrote."""


class Admission:
    """The request's rate-limit count (with Redis, made when first asked for) and the cache
    generation its key and rows were trusted under."""

    def __init__(self, pending: PendingCount, assumed: object):
        self.pending, self.assumed = pending, assumed

    def state(self, append: StreamEntry | None = None) -> RateLimitState:
        """Counts (once); raises _Restart if cached rows changed meanwhile. `append` is added
        to its stream in the same round trip if the request is admitted (see `admit`)."""
        state = self.pending.state(append, self.assumed)
        if state.generation != self.assumed:
            raise _Restart()
        return state


def admit(request: HttpRequest, append: StreamEntry | None = None) -> RateLimitState:
    """Counts the request and stops it (429) if over the limit, or restarts it if rows it read
    from a cache changed meanwhile. A lean handler calls this before it records anything, usage
    above all; the view calls it again before answering.

    `append`: a stream entry (the request's usage event) for the count's round trip: with Redis
    it is appended only if the request is admitted under the generation it trusted, and the
    answer's `appended` says so. When it is False (no Redis, or the request was counted
    before, as after a restart) the caller records the event itself."""
    state = request.maas_admission.state(append)
    if not state.allowed:
        raise _rate_limited(state)
    return state


def _rate_limited(state: RateLimitState) -> RateLimited:
    return RateLimited(
        f"Too many requests: your plan allows {state.limit} per minute. "
        f"Retry in {state.reset_seconds} s.",
        retry_after=state.reset_seconds,
    )


def _authorization(request: HttpRequest) -> str:
    return request.META.get("HTTP_AUTHORIZATION", "")


def _authenticate_and_count(request: HttpRequest) -> tuple[Principal, Admission]:
    from tenants.authentication import authenticate_and_count  # tenants sits above maas

    found = authenticate_and_count(_authorization(request), rate_limit_start)
    if found is None:
        raise AuthenticationError(
            "No API key provided. Send it as 'Authorization: Bearer mk_...'.",
            code="missing_api_key",
        )
    principal, pending, generation = found
    return principal, Admission(pending, generation)


def _serve(handler: Handler, request, principal: Principal, scope: Scope, kwargs) -> Answer:
    request.maas_principal = principal
    # What the handler may read from per-process caches (maas.generation).
    request.maas_generation = request.maas_admission.assumed
    try:
        if not principal.has_scope(scope):
            raise Forbidden(
                f"This API key lacks the {scope.value!r} scope that {request.method} "
                f"{request.path} needs. Use a key with that scope (POST /v1/api-keys)."
            )
        key = idempotency_key_from(request) if request.method == "POST" else None
        if key is None:
            status, body = handler(request, principal, **kwargs)
            return json_response(status, body)
        return _idempotent(handler, request, principal, key, kwargs)
    except Exception as exc:
        return _error_response(exc, request)


def lean_tenant_view(*, methods: tuple[str, ...], scope: Scope) -> Callable[[Handler], Callable]:
    """Wraps `handler(request, principal, **kwargs) -> (status, body)`.

    With Redis the request's rate-limit count is made after the handler has worked (`admit`),
    in one round trip with the usage event the handler gives it: a 429 and a changed cache are
    still decided before anything is recorded or answered. A handler that never calls `admit`
    is counted when it returns."""

    def decorate(handler: Handler) -> Callable:
        def respond(request: HttpRequest, **kwargs: Any) -> Answer:
            state: RateLimitState | None = None
            try:
                if request.method not in methods:
                    return json_response(
                        405,
                        error_body(
                            ErrorType.INVALID_REQUEST,
                            "method_not_allowed",
                            f"{request.method} is not allowed on {request.path}.",
                        ),
                        {"Allow": ", ".join(methods)},
                    )
                principal, request.maas_admission = _authenticate_and_count(request)
                try:
                    if request.maas_admission.pending.ready:  # no wait: check before the work
                        request.maas_admission.state()
                    response = _serve(handler, request, principal, scope, kwargs)
                    state = request.maas_admission.state()
                except _Restart:
                    from tenants.authentication import authenticate_again

                    pending = request.maas_admission.pending
                    state = pending.state()  # already read: trusted now under its generation
                    request.maas_admission = Admission(pending, state.generation)
                    principal = authenticate_again(_authorization(request), state.generation)
                    response = _serve(handler, request, principal, scope, kwargs)
                if not state.allowed:
                    response = _error_response(_rate_limited(state), request)
            except Exception as exc:
                response = _error_response(exc, request)
            if state is not None:
                for name, value in state.headers().items():
                    response[name] = value
            return response

        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            response = respond(request, **kwargs)
            return response.as_http_response() if isinstance(response, LeanResponse) else response

        view.maas_methods = methods  # for tests that walk every route
        view.maas_lean = respond  # the hot path calls it directly (maas.handlers)
        return view

    return decorate


def _idempotent(handler: Handler, request, principal: Principal, key: str, kwargs) -> Answer:
    started = idempotency_begin(
        tenant_id=principal.tenant_id,
        key=key,
        fingerprint=request_fingerprint(request),
        method=request.method,
        path=request.get_full_path(),
    )
    if isinstance(started, HttpResponse):
        return started
    stored = False
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    status, body = handler(request, principal, **kwargs)
                response = json_response(status, body)
            except Exception as exc:
                response = _error_response(exc, request)
            if should_store(response.status_code):
                idempotency_complete(started, response)
                stored = True
    finally:
        if not stored:
            idempotency_release(started)
    return response
