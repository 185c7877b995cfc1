"""`POST /v1/models/{id}/predict` (API.md "Predictions"): the hot path, on a lean view."""

import csv
import io
import os
import time
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from billing.services import usage_prepare
from catalog.selectors import model_version_for_serving
from inference import services
from inference.models import InferenceJob
from inference.results import results_render
from inference.runtime import NotServable, runtime_for
from inference.validation import prepare_inputs
from maas.admission import Result, json_response
from maas.base_views import TenantAPIView
from maas.errors import Conflict, InvalidRequest, NotFound
from maas.idempotency import idempotency_key_from
from maas.lean_views import lean_tenant_view
from maas.principal import Principal
from maas.scopes import Scope
from maas.serializers import FixedFormatNegotiation
from maas.serializers import iso_utc as _iso

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


@lean_tenant_view(methods=("POST",), scope=Scope.PREDICT, spend_checked=True)
def predict(request: HttpRequest, principal: Principal, id: str) -> Result:
    body = _body(request)
    version = body.get("version")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise InvalidRequest("version must be a version number (1, 2, ...).", param="version")
    tenant = principal.tenant
    model_version = model_version_for_serving(
        tenant=tenant, model_id=id, version=version, generation=request.maas_generation
    )
    if model_version is None:
        what = f"version {version} of model {id!r}" if version else f"model {id!r}"
        raise NotFound(f"No such {what}.", param="version" if version else "id")
    try:
        runtime = runtime_for(model_version)
    except NotServable as exc:
        raise Conflict(str(exc), code="model_not_servable") from None
    feed, frame, n_rows = prepare_inputs(
        runtime.inputs,
        body.get("inputs"),
        settings.MAAS_PREDICT_MAX_ROWS,
        as_frame=runtime.engine == "native",
        matrix_input=runtime.matrix_input,
    )
    predicted, proba = runtime.predict(feed, frame)
    # Without a client key, a unique one that sorts by time: the usage sinks index events by
    # (tenant, key), and keys that arrive in order append to the index instead of touching a
    # random page of it per request.
    client_key = idempotency_key_from(request)
    key = client_key or f"{time.time_ns():x}-{os.urandom(8).hex()}"
    usage = usage_prepare(
        tenant=tenant,
        meter="predictions",
        quantity=n_rows,
        idempotency_key=f"predict:{key}",
        dimensions={
            "model": id,
            "price_tier": model_version.price_tier,
            "api_key": principal.key_id,
        },
        new_key=client_key is None,
    )
    out: dict[str, Any] = {"model": id, "version": model_version.version}
    if runtime.classes is not None:
        classes = runtime.classes
        out["predictions"] = [classes[i] for i in predicted.tolist()]
        out["probabilities"] = proba.tolist()
        out["classes"] = classes
    else:
        out["predictions"] = predicted.tolist()
    # The pipeline records the usage once the request is admitted (maas.admission).
    return Result(json_response(200, out), usage)


# --- batch inference jobs (API.md "Batch inference jobs") -------------------------------------


def inference_job_json(job: InferenceJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "object": "inference_job",
        "status": job.status,
        "progress": job.progress,
        "model": job.model_ref,
        "version": job.version,
        "dataset": job.dataset_ref,
        "request_counts": {"total": job.total, "completed": job.completed, "failed": job.failed},
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "usage": {"compute_seconds": format(Decimal(job.compute_seconds).normalize(), "f")},
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


class _InferenceJobView(TenantAPIView):
    resource_name = "inference job"

    def tenant_queryset(self) -> QuerySet[InferenceJob]:
        return InferenceJob.objects.filter(tenant=self.request.tenant)


class InferenceJobListApi(_InferenceJobView):
    spend_checked = frozenset({"POST"})

    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), inference_job_json)

    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidRequest("The body must be a JSON object.")
        unknown = sorted(set(request.data) - {"model", "version", "dataset"})
        if unknown:
            raise InvalidRequest(
                f"Unknown parameter {unknown[0]!r}.", code="parameter_unknown", param=unknown[0]
            )
        job = services.inference_job_create(tenant=request.tenant, data=dict(request.data))
        return Response(inference_job_json(job), status=status.HTTP_202_ACCEPTED)


class InferenceJobDetailApi(_InferenceJobView):
    def get(self, request: Request, id: str) -> Response:
        return Response(inference_job_json(self.get_object()))


class InferenceJobCancelApi(_InferenceJobView):
    def post(self, request: Request, id: str) -> Response:
        return Response(inference_job_json(services.inference_job_cancel(job=self.get_object())))


class InferenceJobResultsApi(_InferenceJobView):
    content_negotiation_class = FixedFormatNegotiation
    which = "results"

    def get(self, request: Request, id: str) -> HttpResponse:
        job = self.get_object()
        fmt = request.query_params.get("format", "jsonl")
        if fmt not in ("jsonl", "csv"):
            raise InvalidRequest("format must be csv or jsonl.", param="format")
        if job.status != InferenceJob.Status.SUCCEEDED:
            raise Conflict(
                f"Job {job.pk} is {job.status}; its {self.which} are ready once it succeeds.",
                code="job_not_finished",
            )
        if self.which == "results":
            content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
            return StreamingHttpResponse(
                results_render(job.results_path, fmt), content_type=content_type
            )
        with default_storage.open(job.errors_path, "rb") as f:
            if fmt == "jsonl":  # stored as JSON Lines
                return HttpResponse(f.read(), content_type="application/x-ndjson")
            lines = [orjson.loads(line) for line in f if line.strip()]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["row", "error"])
        writer.writerows([line["row"], line["error"]] for line in lines)
        return HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")


class InferenceJobErrorsApi(InferenceJobResultsApi):
    which = "errors"
