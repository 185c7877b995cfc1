"""Tenant endpoints on the hot path: plain functions admitted by maas.admission, without DRF.

DRF's request/response machinery costs ~110 µs per request here (PERFORMANCE.md), which the
predict path cannot afford; every rule it would apply is the admission pipeline's, the same the
DRF base view calls. A lean handler is `handler(request, principal, **url_kwargs) -> Result`: its
answer (`json_response(...)`) and the usage its work produced, which the pipeline records once the
request is admitted (with Redis, in the rate-limit count's round trip). It reaches tenant rows only
through selectors that take `tenant=principal.tenant`.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from maas.admission import Answer, LeanResponse, Policy, Result, serve
from maas.scopes import Scope

LeanHandler = Callable[..., Result]


def lean_tenant_view(
    *,
    methods: tuple[str, ...],
    scope: Scope,
    spend_checked: bool = False,
    schema: type | None = None,
) -> Callable[[LeanHandler], Callable]:
    """Wraps a lean handler into a view. `spend_checked`: its work is metered, so it is refused
    over the spend limit. `schema`: a DRF view class that only describes the endpoint for the
    OpenAPI document (drf-spectacular reads a view function's `cls`, as for DRF's @api_view);
    it is never called."""
    policy = Policy(
        methods=methods,
        scopes=dict.fromkeys(methods, scope),
        spend_checked=frozenset(methods) if spend_checked else frozenset(),
        # Nothing to roll back but usage, which outside a transaction goes to the fast sinks;
        # with an Idempotency-Key the usage and the stored answer commit together.
        atomic_writes=False,
        count_after_work=True,
    )

    def decorate(handler: LeanHandler) -> Callable:
        def respond(request: HttpRequest, **kwargs: Any) -> Answer:
            return serve(
                request, policy, lambda request, principal: handler(request, principal, **kwargs)
            )

        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            response = respond(request, **kwargs)
            return response.as_http_response() if isinstance(response, LeanResponse) else response

        view.maas_methods = methods  # for tests that walk every route
        view.maas_lean = respond  # the hot path calls it directly (maas.handlers)
        view.maas_policy = policy
        if schema is not None:
            view.cls, view.initkwargs = schema, {}
            schema.admission_policy = staticmethod(lambda: policy)  # what maas.schema documents
        return view

    return decorate
