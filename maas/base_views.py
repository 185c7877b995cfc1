"""The one base view every tenant API inherits (DESIGN.md "Inside an app").

Invariant it protects: a tenant's request can only ever reach that tenant's rows.
- Every request is authenticated by API key; no key is 401, a key without the method's scope 403.
- `request.tenant` comes from the key, never from the URL or the body.
- Subclasses list their rows through `tenant_queryset()`; the base filters it by the tenant again
  and finds objects only inside it, so another tenant's id is a 404 exactly like an unknown one.
  Overriding `get_queryset`, `get_object` or the request lifecycle is refused when the class is
  created, so the filter cannot be bypassed by accident.
Everything else a tenant request must pass (method, API key, rate limit, scope, spend limit,
`Idempotency-Key`, error rendering) is maas.admission's, the pipeline the predict hot path calls
too: `dispatch` hands it the request and a handler that runs DRF's own steps (content negotiation,
parsing, the method's handler, rendering).
"""

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from maas.admission import LeanResponse, Policy, Result, serve
from maas.drf import PrincipalAuthentication
from maas.errors import NotFound
from maas.pagination import paginate
from maas.principal import Principal
from maas.scopes import Scope
from maas.serializers import list_of

_SEALED = ("get_queryset", "get_object", "dispatch", "initial", "finalize_response")

DEFAULT_SCOPES: dict[str, Scope] = {
    "GET": Scope.READ,
    "HEAD": Scope.READ,
    "POST": Scope.WRITE,
    "PUT": Scope.WRITE,
    "PATCH": Scope.WRITE,
    "DELETE": Scope.WRITE,
}


class TenantAPIView(GenericAPIView):
    authentication_classes = [PrincipalAuthentication]
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
    # Methods that start metered work: refused with 402 once the spend limit is reached.
    spend_checked: ClassVar[frozenset[str]] = frozenset()
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

    def list_response(self, queryset: QuerySet, output: type[Serializer]) -> Response:
        """A page of `queryset` in the list envelope, each item rendered by `output`."""
        page = paginate(self.request, queryset, self.list_order_field)
        return Response(list_of(output)(page).data)

    # --- admission -----------------------------------------------------------------------------

    @classmethod
    def required_scope(cls, method: str) -> Scope:
        return cls.scopes.get(method) or DEFAULT_SCOPES.get(method, Scope.WRITE)

    @classmethod
    def admission_policy(cls) -> Policy:
        """The pipeline's rules for this view (built once per class)."""
        policy = cls.__dict__.get("_policy")
        if policy is None:
            names = [m for m in cls.http_method_names if hasattr(cls, m) and m != "options"]
            methods = [m.upper() for m in names]
            if "GET" in methods and "HEAD" not in methods:
                methods.append("HEAD")  # Django's View answers HEAD with get()
            policy = Policy(
                methods=tuple(methods),
                scopes={m: cls.required_scope(m) for m in methods},
                spend_checked=frozenset(cls.spend_checked),
                atomic_writes=cls.atomic_writes,
                atomic_idempotent=cls.atomic_writes,
            )
            cls._policy = policy
        return policy

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.args, self.kwargs = args, kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers

        def handle(request: HttpRequest, principal: Principal) -> Result:
            # DRF's steps; an exception here is the pipeline's to render, like any other.
            self.initial(drf_request, *args, **kwargs)  # content negotiation, request.user
            handler = getattr(self, request.method.lower())
            response = handler(drf_request, *args, **kwargs)
            response = self.finalize_response(drf_request, response, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()  # the bytes are stored for an idempotent replay
            return Result(response)

        response = serve(request, self.admission_policy(), handle)
        if isinstance(response, LeanResponse):
            response = response.as_http_response()
        self.response = response
        return response
