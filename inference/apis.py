"""Predictions and batch inference jobs (API.md "Predictions", "Batch inference jobs").

`POST /v1/models/{id}/predict` is the hot path: a lean view (maas.lean_views), whose answer is
built here without a serializer (a DRF serializer costs more per request than the model);
`PredictSchema` describes that answer for the OpenAPI document, and the tests check the real
answers against the document.
"""

import time
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.services import usage_prepare
from catalog.selectors import model_version_for_serving
from inference import selectors, services
from inference.explain import NotExplainable, explainer_for, settled
from inference.models import InferenceJob
from inference.outputs import InferenceJobOutput
from inference.results import errors_render, results_render
from inference.runtime import NotServable, runtime_for
from inference.validation import VERSION_MAX, prepare_inputs, version_checked
from maas.admission import Result, json_response
from maas.base_views import TenantAPIView
from maas.errors import Conflict, InvalidRequest, NotFound, UnsupportedMediaType
from maas.idempotency import idempotency_key_from
from maas.jobs import job_wait, prefer_wait
from maas.jsonbody import json_body_load
from maas.lean_views import lean_tenant_view
from maas.pagination import query_value
from maas.principal import Principal
from maas.random_pool import random_hex
from maas.schema import LIST_PARAMETERS, PREFER_WAIT, ErrorOutput
from maas.scopes import Scope
from maas.serializers import (
    StrictCharField,
    StrictSerializer,
    list_of,
)

_FIELDS = {"inputs", "version"}


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.META.get("CONTENT_TYPE", "").startswith("application/json"):
        raise UnsupportedMediaType("Send the inputs as JSON with 'Content-Type: application/json'.")
    body = json_body_load(request.body, max_depth=None)  # why no depth walk: maas/jsonbody.py
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


_VALUE = {"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}]}


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": {**_VALUE, "nullable": True},
                "description": "Values keyed by feature name (null: a missing value).",
            },
            {
                "type": "array",
                "items": {**_VALUE, "nullable": True},
                "description": "Values in the signature's order.",
            },
        ]
    }
)
class RowField(serializers.JSONField):
    pass


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}], "nullable": False}
)
class PredictionField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": VERSION_MAX},
            {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,31}$"},
        ],
        "nullable": True,
        "description": "A version number, or an alias name (PUT /v1/models/{id}/aliases/"
        "{alias}); `latest` (or absent, or null) is the newest version.",
    }
)
class VersionField(serializers.Field):
    """A version reference, checked as predict checks it (inference.validation)."""

    def __init__(self, **kwargs: Any):
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> int | str | None:
        try:
            return version_checked(data)
        except InvalidRequest as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: Any) -> Any:
        return value


class PredictInput(StrictSerializer):
    inputs = serializers.ListField(
        child=RowField(), min_length=1, max_length=settings.MAAS_PREDICT_MAX_ROWS
    )
    version = VersionField(required=False)


class PredictOutput(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.IntegerField()
    predictions = serializers.ListField(
        child=PredictionField(), help_text="One per row: a class label, or a number."
    )
    probabilities = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        required=False,
        help_text="Classifiers: per row, the probability of each of `classes`.",
    )
    classes = serializers.ListField(child=PredictionField(), required=False)


class PredictSchema(APIView):
    """Describes the lean predict view for the OpenAPI document; never called."""

    @extend_schema(
        operation_id="predict",
        request=PredictInput,
        responses=PredictOutput,
        description="Predicts with the model's version (the latest by default). Each row is "
        "checked against the version's signature; a problem names the row and feature.",
    )
    def post(self, request: Request, id: str) -> Response:
        raise NotImplementedError


def _serving_version(request: HttpRequest, principal: Principal, id: str, body: dict):
    """The version a predict or explain body asks for (the latest by default), or 404."""
    version = version_checked(body.get("version"))
    model_version = model_version_for_serving(
        tenant=principal.tenant, model_id=id, version=version, generation=request.maas_generation
    )
    if model_version is None:
        if isinstance(version, str):
            raise NotFound(
                f"Model {id!r} has no alias {version!r} (or no such model). Set it with "
                f"PUT /v1/models/{id}/aliases/{version}.",
                param="version",
            )
        what = f"version {version} of model {id!r}" if version else f"model {id!r}"
        raise NotFound(f"No such {what}.", param="version" if version else "id")
    return model_version


def _usage(
    request: HttpRequest, principal: Principal, meter: str, prefix: str, rows: int, dimensions: dict
):
    """The usage of a predict or explain call, keyed by the client's Idempotency-Key when it
    sent one. Without one, a unique key that sorts by time: the usage sinks index events by
    (tenant, key), and keys that arrive in order append to the index instead of touching a
    random page of it per request."""
    client_key = idempotency_key_from(request)
    key = client_key or f"{time.time_ns():x}-{random_hex(8)}"
    return usage_prepare(
        tenant=principal.tenant,
        meter=meter,
        quantity=rows,
        idempotency_key=f"{prefix}:{key}",
        dimensions={**dimensions, "api_key": principal.key_id},
        new_key=client_key is None,
    )


@lean_tenant_view(methods=("POST",), scope=Scope.PREDICT, spend_checked=True, schema=PredictSchema)
def predict(request: HttpRequest, principal: Principal, id: str) -> Result:
    body = _body(request)
    model_version = _serving_version(request, principal, id, body)
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
    usage = _usage(
        request,
        principal,
        "predictions",
        "predict",
        n_rows,
        {"model": id, "price_tier": model_version.price_tier},
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


class ExplainInput(PredictInput):
    inputs = serializers.ListField(
        child=RowField(), min_length=1, max_length=settings.MAAS_EXPLAIN_MAX_ROWS
    )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "description": "Regressors: the mean output, for every row."},
            {
                "type": "array",
                "items": {"type": "number"},
                "description": "Classifiers: per row, the predicted class's base probability.",
            },
        ]
    }
)
class BaseValueField(serializers.JSONField):
    pass


class ExplainOutput(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.IntegerField()
    predictions = serializers.ListField(child=PredictionField())
    outputs = serializers.ListField(
        child=serializers.FloatField(),
        help_text="Per row, the value explained: the regression output, or the predicted "
        "class's probability.",
    )
    base_value = BaseValueField(
        help_text="Where contributions start from: `base_value` (a classifier: its row's entry) "
        "plus the row's contributions is its output, within 1e-6 relative."
    )
    explanations = serializers.ListField(
        child=serializers.DictField(child=serializers.FloatField()),
        help_text="Per row, each input feature's additive contribution to the output.",
    )
    method = serializers.ChoiceField(
        choices=["linear", "tree_shap"], help_text="How they were computed (docs/explanations.md)."
    )


class ExplainSchema(APIView):
    """Describes the lean explain view for the OpenAPI document; never called."""

    @extend_schema(
        operation_id="explain",
        request=ExplainInput,
        responses={
            200: ExplainOutput,
            409: OpenApiResponse(
                ErrorOutput, description="model_not_explainable: no exact method for this model."
            ),
        },
        description="Per-feature contributions that add up to each row's output (the "
        "regression value, or the predicted class's probability). Rows are checked as for "
        "predict. Metered as `explanations` (rows).",
    )
    def post(self, request: Request, id: str) -> Response:
        raise NotImplementedError


@lean_tenant_view(methods=("POST",), scope=Scope.PREDICT, spend_checked=True, schema=ExplainSchema)
def explain(request: HttpRequest, principal: Principal, id: str) -> Result:
    body = _body(request)
    model_version = _serving_version(request, principal, id, body)
    try:
        explainer = explainer_for(model_version)
        runtime = runtime_for(model_version)
    except NotExplainable as exc:
        raise Conflict(str(exc), code="model_not_explainable") from None
    except NotServable as exc:
        raise Conflict(str(exc), code="model_not_servable") from None
    feed, frame, n_rows = prepare_inputs(
        explainer.inputs, body.get("inputs"), settings.MAAS_EXPLAIN_MAX_ROWS, as_frame=True
    )
    # What predict answers for these rows is what gets explained (inference.explain).
    predicted, proba = runtime.predict(feed, frame)
    served = predicted if proba is None else proba[np.arange(n_rows), predicted]
    found = explainer.explain(frame, predicted)
    contributions = settled(found["contributions"], found["base"], served)
    names = [spec["name"] for spec in explainer.inputs]
    out = {"model": id, "version": model_version.version}
    if explainer.classes is not None:
        out["predictions"] = [explainer.classes[i] for i in predicted.tolist()]
        out["base_value"] = found["base"].tolist()
    else:
        out["predictions"] = predicted.tolist()
        out["base_value"] = float(found["base"][0])
    out["outputs"] = served.tolist()
    out["explanations"] = [dict(zip(names, row, strict=True)) for row in contributions.tolist()]
    out["method"] = "linear" if explainer.method == "linear" else "tree_shap"
    usage = _usage(request, principal, "explanations", "explain", n_rows, {"model": id})
    return Result(json_response(200, out), usage)


# --- batch inference jobs (API.md "Batch inference jobs") -------------------------------------


class InferenceJobCreateInput(StrictSerializer):
    model = StrictCharField(help_text="The id of one of your models (mdl_...).")
    version = VersionField(required=False)
    dataset = StrictCharField(help_text="The id of an uploaded dataset (ds_...).")


class _InferenceJobView(TenantAPIView):
    resource_name = "inference job"

    def tenant_queryset(self) -> QuerySet[InferenceJob]:
        return selectors.inference_job_list(tenant=self.request.tenant)


class InferenceJobListApi(_InferenceJobView):
    spend_checked = frozenset({"POST"})

    @extend_schema(
        operation_id="list_inference_jobs",
        parameters=LIST_PARAMETERS,
        responses=list_of(InferenceJobOutput),
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), InferenceJobOutput)

    @extend_schema(
        operation_id="create_inference_job",
        request=InferenceJobCreateInput,
        responses={202: InferenceJobOutput},
    )
    def post(self, request: Request) -> Response:
        data = InferenceJobCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.inference_job_create(tenant=request.tenant, **data.validated_data)
        return Response(InferenceJobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class InferenceJobDetailApi(_InferenceJobView):
    @extend_schema(
        operation_id="get_inference_job", parameters=[PREFER_WAIT], responses=InferenceJobOutput
    )
    def get(self, request: Request, id: str) -> Response:
        job = job_wait(self.get_object(), seconds=prefer_wait(request.headers.get("Prefer", "")))
        return Response(InferenceJobOutput(job).data)


class InferenceJobCancelApi(_InferenceJobView):
    @extend_schema(
        operation_id="cancel_inference_job",
        request=None,
        responses=InferenceJobOutput,
        description="A queued job, or one whose worker is gone, is canceled at once; a running "
        "one is `cancelling` until it stops after its current chunk. A finished job is 409.",
    )
    def post(self, request: Request, id: str) -> Response:
        job = services.inference_job_cancel(job=self.get_object())
        return Response(InferenceJobOutput(job).data)


FORMAT = OpenApiParameter(
    "format", str, OpenApiParameter.QUERY, enum=["jsonl", "csv"], description="jsonl by default."
)
NOT_SUCCEEDED = OpenApiResponse(ErrorOutput, description="The job has not succeeded (yet).")
_CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


class InferenceJobResultsApi(_InferenceJobView):
    which = "results"

    def _download(self, request: Request) -> StreamingHttpResponse:
        job = self.get_object()
        fmt = query_value(request, "format") or "jsonl"
        if fmt not in _CONTENT_TYPES:
            raise InvalidRequest("format must be csv or jsonl.", param="format")
        if job.status != InferenceJob.Status.SUCCEEDED:
            raise Conflict(
                f"Job {job.pk} is {job.status}; its {self.which} are ready once it succeeds.",
                code="job_not_finished",
            )
        render = results_render if self.which == "results" else errors_render
        path = job.results_path if self.which == "results" else job.errors_path
        return StreamingHttpResponse(render(path, fmt), content_type=_CONTENT_TYPES[fmt])

    @extend_schema(
        operation_id="get_inference_job_results",
        parameters=[FORMAT],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
            409: NOT_SUCCEEDED,
        },
        description="Each input row's index and prediction, in input order: JSON Lines "
        '`{"row", "prediction", "probabilities"?}`, or CSV `row,prediction,p_<class>...`. '
        "409 until the job has succeeded.",
    )
    def get(self, request: Request, id: str) -> StreamingHttpResponse:
        return self._download(request)


class InferenceJobErrorsApi(InferenceJobResultsApi):
    which = "errors"

    @extend_schema(
        operation_id="get_inference_job_errors",
        parameters=[FORMAT],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
            409: NOT_SUCCEEDED,
        },
        description='The rows that could not be predicted and why: JSON Lines `{"row", "error"}`, '
        "or CSV `row,error`. 409 until the job has succeeded.",
    )
    def get(self, request: Request, id: str) -> StreamingHttpResponse:
        return self._download(request)
