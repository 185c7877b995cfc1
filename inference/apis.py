"""`POST /v1/models/{id}/predict` (API.md "Predictions"): the hot path, on a lean view."""

import uuid
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest

from billing.services import usage_record
from billing.spend import spend_require
from catalog.selectors import model_version_for_serving
from inference.runtime import NotServable, runtime_for
from inference.validation import build_inputs, rows_as_lists
from maas.errors import Conflict, InvalidRequest, NotFound
from maas.idempotency import HEADER as IDEMPOTENCY_HEADER
from maas.lean_views import lean_tenant_view
from maas.principal import Principal
from maas.scopes import Scope

_FIELDS = {"inputs", "version"}


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.META.get("CONTENT_TYPE", "").startswith("application/json"):
        raise InvalidRequest(
            "Send the inputs as JSON with 'Content-Type: application/json'.",
            code="unsupported_media_type",
        )
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON ({exc}).", code="invalid_body"
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest('The body must be an object: {"inputs": [...]}.', code="invalid_body")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidRequest(
            f"Unknown parameter {unknown[0]!r}; accepted: inputs, version.",
            code="parameter_unknown",
            param=unknown[0],
        )
    return body


@lean_tenant_view(methods=("POST",), scope=Scope.PREDICT)
def predict(request: HttpRequest, principal: Principal, id: str) -> tuple[int, dict[str, Any]]:
    body = _body(request)
    version = body.get("version")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise InvalidRequest("version must be a version number (1, 2, ...).", param="version")
    tenant = principal.tenant
    spend_require(tenant)
    model_version = model_version_for_serving(tenant=tenant, model_id=id, version=version)
    if model_version is None:
        what = f"version {version} of model {id!r}" if version else f"model {id!r}"
        raise NotFound(f"No such {what}.", param="version" if version else "id")
    try:
        runtime = runtime_for(model_version)
    except NotServable as exc:
        raise Conflict(str(exc), code="model_not_servable") from None
    rows = rows_as_lists(runtime.inputs, body.get("inputs"), settings.MAAS_PREDICT_MAX_ROWS)
    feed, frame = build_inputs(runtime.inputs, rows, as_frame=runtime.engine == "native")
    predicted, proba = runtime.predict(feed, frame)
    key = request.headers.get(IDEMPOTENCY_HEADER) or uuid.uuid4().hex
    usage_record(
        tenant=tenant,
        meter="predictions",
        quantity=len(rows),
        idempotency_key=f"predict:{key}",
        dimensions={
            "model": id,
            "price_tier": model_version.price_tier,
            "api_key": principal.key_id,
        },
    )
    out: dict[str, Any] = {"model": id, "version": model_version.version}
    if runtime.classes is not None:
        classes = runtime.classes
        out["predictions"] = [classes[i] for i in predicted.tolist()]
        out["probabilities"] = proba.tolist()
        out["classes"] = classes
    else:
        out["predictions"] = predicted.tolist()
    return 200, out
