"""The one base view every tenant API inherits (DESIGN.md "Inside an app").

Invariant it protects: a tenant's request can only ever reach that tenant's rows.
- Every request is authenticated by API key; no key is 401, a key without the method's scope 403.
- `request.tenant` comes from the key, never from the URL or the body.
- Subclasses list their rows through `tenant_queryset()`; the base filters it by the tenant again
  and finds objects only inside it, so another tenant's id is a 404 exactly like an unknown one.
  Overriding `get_queryset`, `get_object` or the request lifecycle is refused when the class is
  created, so the filter cannot be bypassed by accident.
It also applies the per-tenant rate limit and `Idempotency-Key` to every POST.
"""

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, ClassVar

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions as drf
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from maas.errors import Forbidden, NotFound, RateLimited
from maas.idempotency import (
    idempotency_begin,
    idempotency_complete,
    idempotency_key_from,
    idempotency_release,
    request_fingerprint,
    should_store,
)
from maas.pagination import paginate
from maas.principal import Principal
from maas.ratelimit import RateLimitState, rate_limit_hit
from maas.scopes import Scope

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SEALED = ("get_queryset", "get_object", "dispatch", "initial", "finalize_response", "_run_handler")

DEFAULT_SCOPES: dict[str, Scope] = {
    "GET": Scope.READ,
    "HEAD": Scope.READ,
    "OPTIONS": Scope.READ,
    "POST": Scope.WRITE,
    "PUT": Scope.WRITE,
    "PATCH": Scope.WRITE,
    "DELETE": Scope.WRITE,
}


class TenantAPIView(GenericAPIView):
    # The field of the model holding the tenant's id ("pk" for the Tenant itself).
    tenant_field: ClassVar[str] = "tenant_id"
    # URL kwarg holding the object's id; None for a singleton (the tenant's one object).
    lookup_url_kwarg: ClassVar[str | None] = "id"
    # The model field that URL kwarg matches.
    lookup_field: ClassVar[str] = "pk"
    # Lists are newest first by this datetime field (then id).
    list_order_field: ClassVar[str] = "created_at"
    # How 404 messages name the object: "No such dataset: 'ds_...'".
    resource_name: ClassVar[str] = "object"
    # Scope needed per method; subclasses override entries (e.g. {"GET": Scope.BILLING}).
    scopes: ClassVar[dict[str, Scope]] = {}
    # Writes (POST, PUT, PATCH, DELETE) run in a transaction, rolled back if the handler fails;
    # with an Idempotency-Key, the stored answer commits in that same transaction. A handler that
    # streams for long (uploads) sets this False and makes its own writes atomic.
    atomic_writes: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _SEALED:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} may not override {name}(): tenant scoping lives in "
                    "TenantAPIView. Implement tenant_queryset() instead."
                )

    # --- scoping -------------------------------------------------------------------------------

    def tenant_queryset(self) -> QuerySet:
        raise NotImplementedError(f"{type(self).__name__} must implement tenant_queryset()")

    def get_queryset(self) -> QuerySet:
        return self.tenant_queryset().filter(**{self.tenant_field: self.request.tenant.pk})

    def get_object(self) -> Model:
        queryset = self.get_queryset()
        if self.lookup_url_kwarg is None:
            return queryset.get()
        object_id = self.kwargs[self.lookup_url_kwarg]
        obj = queryset.filter(**{self.lookup_field: object_id}).first()
        if obj is None:
            raise NotFound(f"No such {self.resource_name}: {object_id!r}.", param="id")
        return obj

    def list_response(self, queryset: QuerySet, serialize: Callable[[Any], dict]) -> Response:
        return Response(paginate(self.request, queryset, serialize, self.list_order_field))

    # --- request lifecycle ---------------------------------------------------------------------

    def required_scope(self, method: str) -> Scope:
        return self.scopes.get(method) or DEFAULT_SCOPES.get(method, Scope.WRITE)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # content negotiation, authentication
        principal: Principal | None = request.auth
        if principal is None:
            raise drf.NotAuthenticated()
        request.tenant = principal.tenant
        request._request.maas_principal = principal  # for the access log
        self.rate_limit_state: RateLimitState | None = rate_limit_hit(
            principal.tenant_id, principal.requests_per_minute
        )
        if not self.rate_limit_state.allowed:
            raise RateLimited(
                f"Too many requests: your plan allows {principal.requests_per_minute} per minute. "
                f"Retry in {self.rate_limit_state.reset_seconds} s.",
                retry_after=self.rate_limit_state.reset_seconds,
            )
        scope = self.required_scope(request.method)
        if not principal.has_scope(scope):
            raise Forbidden(
                f"This API key lacks the {scope.value!r} scope that {request.method} "
                f"{request.path} needs. Use a key with that scope (POST /v1/api-keys).",
                param=None,
            )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        self.rate_limit_state = None
        try:
            self.initial(request, *args, **kwargs)
            handler = getattr(self, request.method.lower(), None)
            if request.method.lower() not in self.http_method_names or handler is None:
                handler = self.http_method_not_allowed
            key = idempotency_key_from(request) if request.method == "POST" else None
            if key is not None and handler != self.http_method_not_allowed:
                return self._dispatch_idempotent(key, handler, request, args, kwargs)
            response = self._run_handler(handler, request, args, kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _run_handler(
        self, handler: Callable, request: Request, args: tuple, kwargs: dict
    ) -> HttpResponse:
        if self.atomic_writes and request.method in _WRITE_METHODS:
            with transaction.atomic():
                return handler(request, *args, **kwargs)
        return handler(request, *args, **kwargs)

    def _dispatch_idempotent(
        self, key: str, handler: Callable, request: Request, args: tuple, kwargs: dict
    ) -> HttpResponse:
        started = idempotency_begin(
            tenant_id=request.tenant.pk,
            key=key,
            fingerprint=request_fingerprint(request._request),
            method=request.method,
            path=request.get_full_path(),
        )
        if isinstance(started, HttpResponse):  # a repeat: the first answer again
            self.response = self.finalize_response(request, started, *args, **kwargs)
            return self.response
        record = started
        stored = False
        try:
            with transaction.atomic() if self.atomic_writes else nullcontext():
                try:
                    response = self._run_handler(handler, request, args, kwargs)
                except Exception as exc:
                    response = self.handle_exception(exc)
                response = self.finalize_response(request, response, *args, **kwargs)
                if hasattr(response, "render"):
                    response.render()
                if should_store(response.status_code):
                    idempotency_complete(record, response)
                    stored = True
        finally:
            if not stored:
                idempotency_release(record)
        self.response = response
        return response

    def finalize_response(
        self, request: Request, response: HttpResponse, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(self, "rate_limit_state", None)
        if state is not None:
            for header, value in state.headers().items():
                response[header] = value
        return response
