"""Tenant endpoints on the hot path, without the DRF stack.

The same guarantees as TenantAPIView (maas/base_views.py), with the same precedence: API key
(401), per-tenant rate limit (429 and the X-RateLimit-* headers), scope (403), `Idempotency-Key`
on POST (replay, 409 on reuse or in flight), every error in the contract's shape. What it leaves
out is DRF's request/response machinery (~110 µs per request here, PERFORMANCE.md), which the
predict path cannot afford. The rate limit's answer may arrive after the handler has worked
(see `admit`); a 429 then replaces whatever the handler answered, and nothing was recorded. A
lean handler reaches tenant rows only through selectors that take `tenant=principal.tenant`.
"""

import logging
from collections.abc import Callable
from functools import wraps
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
from maas.ratelimit import PendingCount, RateLimitState, rate_limit_start
from maas.scopes import Scope

log = logging.getLogger("maas.errors")

Handler = Callable[..., tuple[int, dict[str, Any]]]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(body), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _error_response(exc: Exception, request: HttpRequest) -> HttpResponse:
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
    """The request's rate-limit count (maybe still on its way back from Redis) and the cache
    generation its key and rows were trusted under."""

    def __init__(self, pending: PendingCount, assumed: object):
        self.pending, self.assumed = pending, assumed

    def state(self) -> RateLimitState:
        """Waits for the count; raises _Restart if cached rows changed meanwhile."""
        state = self.pending.state()
        if state.generation != self.assumed:
            raise _Restart()
        return state


def admit(request: HttpRequest) -> RateLimitState:
    """Waits for the request's count and stops it (429) if over the limit, or restarts it if
    rows it read from a cache changed meanwhile. A lean handler calls this before it records
    anything, usage above all; the view calls it again before answering."""
    state = request.maas_admission.state()
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


def _serve(handler: Handler, request, principal: Principal, scope: Scope, kwargs) -> HttpResponse:
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

    The request's rate-limit count is sent when it arrives and its answer read after the
    handler has worked (`admit`): a 429 and a changed cache are still decided before anything
    is recorded or answered, but the round trip to Redis overlaps the handler's work."""

    def decorate(handler: Handler) -> Callable:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
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

        view.maas_methods = methods  # for tests that walk every route
        return view

    return decorate


def _idempotent(handler: Handler, request, principal: Principal, key: str, kwargs) -> HttpResponse:
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
