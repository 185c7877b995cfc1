"""Tenant endpoints on the hot path, without the DRF stack.

The same guarantees as TenantAPIView (maas/base_views.py), in the same order: API key (401),
per-tenant rate limit (429 and the X-RateLimit-* headers), scope (403), `Idempotency-Key` on POST
(replay, 409 on reuse or in flight), every error in the contract's shape. What it leaves out is
DRF's request/response machinery (~110 µs per request here, PERFORMANCE.md), which the predict
path cannot afford. A lean handler reaches tenant rows only through selectors that take
`tenant=principal.tenant`.
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
from maas.ratelimit import RateLimitState, rate_limit_hit
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


def _authenticate_and_count(request: HttpRequest) -> tuple[Principal, RateLimitState]:
    from tenants.authentication import authenticate_and_count  # tenants sits above maas

    found = authenticate_and_count(request.META.get("HTTP_AUTHORIZATION", ""), rate_limit_hit)
    if found is None:
        raise AuthenticationError(
            "No API key provided. Send it as 'Authorization: Bearer mk_...'.",
            code="missing_api_key",
        )
    return found


def lean_tenant_view(*, methods: tuple[str, ...], scope: Scope) -> Callable[[Handler], Callable]:
    """Wraps `handler(request, principal, **kwargs) -> (status, body)`."""

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
                principal, state = _authenticate_and_count(request)
                request.maas_principal = principal
                # What the handler may read from per-process caches (maas.generation).
                request.maas_generation = state.generation
                if not state.allowed:
                    raise RateLimited(
                        f"Too many requests: your plan allows {principal.requests_per_minute} "
                        f"per minute. Retry in {state.reset_seconds} s.",
                        retry_after=state.reset_seconds,
                    )
                if not principal.has_scope(scope):
                    raise Forbidden(
                        f"This API key lacks the {scope.value!r} scope that {request.method} "
                        f"{request.path} needs. Use a key with that scope (POST /v1/api-keys)."
                    )
                key = idempotency_key_from(request) if request.method == "POST" else None
                if key is None:
                    status, body = handler(request, principal, **kwargs)
                    response = json_response(status, body)
                else:
                    response = _idempotent(handler, request, principal, key, kwargs)
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
