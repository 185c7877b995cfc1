"""The OpenAPI document's shared parts: the API key scheme, the error shape, and what every
tenant operation can answer besides its own body.

`TenantAutoSchema` reads each operation's admission policy (maas.admission.Policy, the rules the
request really passes) and documents what those rules can answer: 401, 403 and 429 for every
operation (and 404: an object the path or body names may not be the tenant's), 402 where the
spend limit is checked, 409 where an `Idempotency-Key` is taken, 413/415 where a body is read; the
`Idempotency-Key` header on every POST; `X-Request-Id` on every answer and the rate-limit headers
on every success. So the document cannot drift from what the pipeline does. `links_hook` adds
the OpenAPI links from each created object to the operations on it (clients and stateful testers
follow them).
"""

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from maas.errors import ErrorType
from maas.idempotency import KEY_PATTERN
from maas.scopes import Scope
from maas.serializers import StrictSerializer


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "maas.drf.PrincipalAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "mk_...",
            "description": "An API key: `Authorization: Bearer mk_...`.",
        }


class ConstantFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "maas.serializers.ConstantField"

    def map_serializer_field(self, auto_schema, direction):
        # Wrapped, so that drf-spectacular's enum hook leaves each one-value enum in place
        # instead of making (and naming) a component of each.
        return {"allOf": [{"type": "string", "enum": [self.target.value]}]}


class ErrorDetailOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=[t.value for t in ErrorType])
    code = serializers.CharField(help_text="A stable, machine-readable reason.")
    message = serializers.CharField(help_text="What happened and what to change.")
    param = serializers.CharField(
        allow_null=True, help_text="The parameter at fault (`inputs[0].age`), or null."
    )
    request_id = serializers.CharField(help_text="Quote it to support; also `X-Request-Id`.")


class ErrorOutput(serializers.Serializer):
    """Every non-2xx answer (API.md "Errors")."""

    error = ErrorDetailOutput()


ERROR_DESCRIPTIONS = {
    "400": "The request is malformed or a parameter is invalid (`param` names it).",
    "401": "No API key, or one that is malformed, unknown, revoked or expired.",
    "402": "This month's charges have reached the tenant's spend limit.",
    "403": "The key lacks the scope this operation needs, or the tenant is suspended.",
    "404": "No such object for this tenant (another tenant's object answers the same).",
    "409": "A conflict: the `Idempotency-Key` was used for another request or is in use, or "
    "the object's state does not allow this.",
    "413": "The request body is larger than this endpoint accepts.",
    "415": "The body's Content-Type is not one this endpoint reads.",
    "414": "The URL (path and query) is longer than 4,094 bytes.",
    "429": "Over the tenant's requests per minute, or its concurrent jobs (see `Retry-After`).",
    "431": "The request's headers are over the web server's limits (more than 100 fields, or "
    "about 400 KiB in all). The server refuses them before maas reads the request: this "
    "answer has no body and no request id.",
}

ERROR_NAMES = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "402": "SpendLimitReached",
    "403": "Forbidden",
    "404": "NotFound",
    "409": "Conflict",
    "413": "PayloadTooLarge",
    "414": "UriTooLong",
    "415": "UnsupportedMediaType",
    "429": "TooManyRequests",
    "431": "HeadersTooLarge",
}

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
# Shared by every operation: components, referred to from each answer.
HEADERS = {
    "X-Request-Id": {
        "schema": _STRING,
        "description": "The request's id: an incoming one of 8-128 plain characters is kept.",
        "required": True,
    },
    "X-RateLimit-Limit": {"schema": _INTEGER, "description": "Requests per minute allowed."},
    "X-RateLimit-Remaining": {"schema": _INTEGER, "description": "Requests left in the window."},
    "X-RateLimit-Reset": {"schema": _INTEGER, "description": "Seconds until the window ends."},
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present on the stored answer to a repeated request.",
    },
    "Retry-After": {"schema": _INTEGER, "description": "Seconds to wait.", "required": True},
    "WWW-Authenticate": {"schema": _STRING, "description": '`Bearer realm="maas"`.'},
}
_ANSWER_HEADERS = (
    "X-Request-Id",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _error_response(status: str) -> dict[str, Any]:
    if status == "431":  # granian's own answer (maas.web), before any of maas runs
        return {"description": ERROR_DESCRIPTIONS[status]}
    headers = {"X-Request-Id": _header("X-Request-Id")}
    if status == "401":
        headers["WWW-Authenticate"] = _header("WWW-Authenticate")
    if status == "429":
        headers["Retry-After"] = _header("Retry-After")
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "headers": headers,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    pattern=KEY_PATTERN,
    description="1 to 255 visible ASCII characters (a UUID), kept 24 h: a repeat with the same "
    "body answers the first answer again (`Idempotent-Replayed: true`) and does nothing else; "
    "another body is 409.",
)
LIST_PARAMETERS = [
    OpenApiParameter(
        "limit", int, OpenApiParameter.QUERY, description="Items per page: 20 by default, 1..100."
    ),
    OpenApiParameter(
        "cursor", str, OpenApiParameter.QUERY, description="The `next_cursor` of the last page."
    ),
]
PREFER_WAIT = OpenApiParameter(
    "Prefer",
    str,
    OpenApiParameter.HEADER,
    description="`wait=N` (N <= 60): answer when the job finishes or after N seconds.",
)


class TenantAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, with what the admission pipeline adds to each operation."""

    def _policy(self):
        view_class = type(self.view)
        policy = getattr(view_class, "admission_policy", None)
        return policy() if policy is not None else None

    def get_serializer_name(self, serializer, direction) -> str:
        # DatasetOutput is the Dataset component; TrainingJobCreateInput, with the request
        # suffix drf-spectacular adds, TrainingJobCreateRequest.
        name = super().get_serializer_name(serializer, direction)
        for suffix in ("Output", "Input"):
            if name.endswith(suffix) and name != suffix:
                return name.removesuffix(suffix)
        return name

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False  # it names an unknown field instead (400)
        return schema

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if self.method == "POST" and self._policy() is not None:
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def get_description(self) -> str:
        description = super().get_description()
        policy = self._policy()
        if policy is None:
            return description
        scope: Scope = policy.scopes[self.method]
        needs = f"Needs an API key with the `{scope.value}` scope."
        return f"{description}\n\n{needs}" if description else needs

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        policy = self._policy()
        if operation is None or policy is None:
            return operation
        self.resolve_serializer(ErrorOutput, "response")  # the Error component
        responses: dict[str, Any] = operation["responses"]
        for answer in responses.values():
            headers = answer.setdefault("headers", {})
            for name in _ANSWER_HEADERS:
                headers[name] = _header(name)
            if self.method == "POST":
                headers["Idempotent-Replayed"] = _header("Idempotent-Replayed")
        for status in self._error_statuses(policy, "requestBody" in operation):
            responses.setdefault(status, {"$ref": f"#/components/responses/{ERROR_NAMES[status]}"})
        return operation

    def _error_statuses(self, policy, has_body: bool) -> list[str]:
        # 404: the object the path or the body names is not the tenant's (or any path we do
        # not serve).
        # 414: a URL over the limit (maas.handlers); 431: headers over the web server's limits.
        statuses = ["400", "401", "403", "404", "414", "429", "431"]
        if self.method in policy.spend_checked:
            statuses.append("402")
        if self.method == "POST":
            statuses.append("409")  # Idempotency-Key reused or in use
        if has_body:
            statuses += ["413", "415"]
        return sorted(statuses)


KEEPS_OBJECT = "x-keeps-object"  # a DELETE that ends the object's use but keeps it readable


def components_hook(result: dict, generator, request, public) -> dict:
    """The shared headers and error answers that TenantAutoSchema refers to."""
    components = result.setdefault("components", {})
    components["headers"] = HEADERS
    components["responses"] = {
        name: _error_response(status) for status, name in ERROR_NAMES.items()
    }
    return result


def links_hook(result: dict, generator, request, public) -> dict:
    """Adds OpenAPI links: from each operation that creates an object (its `id` in the body) to
    the operations on the object's own path, so that a client (or a stateful test) can follow
    what it created. A DELETE marked `x-keeps-object` (revoking a key: the revoked key stays
    readable) gets no link: reading the object after it is no use-after-free."""
    paths: dict[str, dict] = result.get("paths", {})
    for collection, operations in paths.items():
        post = operations.get("post")
        if post is None:
            continue
        targets = [
            (item, method, op)
            for item, item_operations in paths.items()
            if item.startswith(collection + "/{") and item.count("{") == 1
            for method, op in item_operations.items()
            if method in ("get", "post", "patch", "delete")
            and isinstance(op, dict)
            and not op.get(KEEPS_OBJECT)
        ]
        for status, answer in post["responses"].items():
            if not status.startswith("2"):
                continue
            links = answer.setdefault("links", {})
            for item, method, op in targets:
                name = item[item.index("{") + 1 : item.index("}")]
                links[op["operationId"]] = {
                    "operationId": op["operationId"],
                    "parameters": {name: "$response.body#/id"},
                    "description": f"{method.upper()} {item} of the object created.",
                }
    return result
