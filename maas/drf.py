"""DRF's side of the admission pipeline: settings in REST_FRAMEWORK name these.

Kept apart from maas/base_views.py because DRF reads its settings while that module's classes are
being created."""

from typing import Any

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from maas.errors import error_parts
from maas.jsonbody import json_body_load
from maas.principal import Principal


class PrincipalAuthentication(BaseAuthentication):
    """DRF's view of the admission pipeline's authentication: `request.user` and `request.auth`
    are the principal the pipeline admitted the request under (DRF never reads the key)."""

    def authenticate(self, request: Request) -> tuple[Principal, Principal] | None:
        principal = getattr(request._request, "maas_principal", None)
        return None if principal is None else (principal, principal)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="maas"'


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER, for DRF views outside the pipeline (the schema, the docs)."""
    view = context.get("view")
    request = getattr(context.get("request"), "_request", None)
    allow = ", ".join(view.allowed_methods) if view is not None else None
    status, body, headers = error_parts(exc, request, allow)
    response = Response(body, status=status, headers=headers)
    if status >= 500:
        response._has_been_logged = True  # logged with the request id; Django need not
    return response


class JsonBodyParser(BaseParser):
    """DRF's JSON parser, replaced by the one every path uses (maas/jsonbody.py): orjson, and
    a nesting cap where DRF's parser raised RecursionError, a 500."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        return json_body_load(stream.read(), max_depth=settings.MAAS_MAX_JSON_DEPTH)
