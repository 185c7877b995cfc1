"""Algorithms and training jobs (API.md "Algorithms", "Training jobs")."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from maas.base_views import TenantAPIView
from maas.errors import NotFound
from maas.jobs import job_wait, prefer_wait
from maas.schema import LIST_PARAMETERS, PREFER_WAIT
from maas.serializers import (
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
    list_of,
)
from training import selectors, services
from training.algorithms import ALGORITHMS, Param
from training.models import TrainingEvent, TrainingJob
from training.outputs import TrainingJobOutput


class ParamOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["int", "float", "bool", "choice", "int_list"])
    default = serializers.JSONField(allow_null=True)
    min = serializers.FloatField(required=False)
    max = serializers.FloatField(required=False)
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    nullable = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False)

    def to_representation(self, param: Param) -> dict[str, Any]:
        # Only what the parameter has: no "min": null on a choice.
        data = super().to_representation(param)
        for optional in ("min", "max", "choices", "description"):
            if not data.get(optional) and data.get(optional) != 0:
                data.pop(optional)
        if not param.nullable:
            data.pop("nullable")
        for bound in ("min", "max"):
            if bound in data and float(data[bound]).is_integer() and param.type != "float":
                data[bound] = int(data[bound])
        return data


class AlgorithmOutput(serializers.Serializer):
    name = serializers.CharField()
    framework = serializers.ChoiceField(choices=["sklearn", "keras"])
    task = serializers.ChoiceField(choices=["classification", "regression"])
    price_tier = serializers.ChoiceField(choices=["light", "standard", "heavy"])
    description = serializers.CharField()
    params = serializers.DictField(child=ParamOutput())


class AlgorithmListOutput(serializers.Serializer):
    data = AlgorithmOutput(many=True)


class AlgorithmListApi(TenantAPIView):
    def tenant_queryset(self) -> QuerySet:
        return TrainingJob.objects.none()  # a static table, the same for every tenant

    @extend_schema(operation_id="list_algorithms", responses=AlgorithmListOutput)
    def get(self, request: Request) -> Response:
        return Response(AlgorithmListOutput({"data": ALGORITHMS.values()}).data)


class TrainingJobCreateInput(StrictSerializer):
    dataset = StrictCharField(help_text="The id of an uploaded dataset (ds_...).")
    target = StrictCharField(help_text="The column to predict.")
    features = serializers.ListField(
        child=StrictCharField(),
        required=False,
        min_length=1,
        help_text="Columns to learn from; all but the target by default.",
    )
    algorithm = serializers.ChoiceField(
        choices=list(ALGORITHMS),
        error_messages={
            "invalid_choice": '"{input}" is not an algorithm; choose one of '
            + ", ".join(ALGORITHMS)
            + "."
        },
    )
    params = serializers.DictField(
        required=False, help_text="The algorithm's parameters (GET /v1/algorithms)."
    )
    model = serializers.RegexField(
        services.MODEL_NAME,
        required=False,
        help_text="The catalog model the new version goes to (created if absent).",
        error_messages={"invalid": "Must be 1 to 100 letters, digits, '_', '.' or '-'."},
    )
    validation_split = StrictFloatField(required=False, min_value=0.05, max_value=0.5)
    cv_folds = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=2,
        max_value=10,
        help_text="k-fold cross-validation (stratified for classifiers), reported in the "
        "version's evaluation; the served model is still fit on the training split. Metered "
        "as training compute. Absent or null: none.",
    )


class TrainingEventOutput(serializers.Serializer):
    created_at = serializers.DateTimeField()
    level = serializers.ChoiceField(choices=["info", "warning", "error"])
    message = serializers.CharField()
    data = serializers.DictField()


class _TrainingJobView(TenantAPIView):
    resource_name = "training job"

    def tenant_queryset(self) -> QuerySet[TrainingJob]:
        return selectors.training_job_list(tenant=self.request.tenant)


class TrainingJobListApi(_TrainingJobView):
    spend_checked = frozenset({"POST"})

    @extend_schema(
        operation_id="list_training_jobs",
        parameters=LIST_PARAMETERS,
        responses=list_of(TrainingJobOutput),
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), TrainingJobOutput)

    @extend_schema(
        operation_id="create_training_job",
        request=TrainingJobCreateInput,
        responses={202: TrainingJobOutput},
    )
    def post(self, request: Request) -> Response:
        data = TrainingJobCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.training_job_create(tenant=request.tenant, **data.validated_data)
        return Response(TrainingJobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class TrainingJobDetailApi(_TrainingJobView):
    @extend_schema(
        operation_id="get_training_job", parameters=[PREFER_WAIT], responses=TrainingJobOutput
    )
    def get(self, request: Request, id: str) -> Response:
        job = job_wait(self.get_object(), seconds=prefer_wait(request.headers.get("Prefer", "")))
        return Response(TrainingJobOutput(job).data)


class TrainingJobCancelApi(_TrainingJobView):
    @extend_schema(
        operation_id="cancel_training_job",
        request=None,
        responses=TrainingJobOutput,
        description="A queued job, or one whose worker is gone, is canceled at once; a running "
        "one is `cancelling` until it stops at its next check. A finished job is 409.",
    )
    def post(self, request: Request, id: str) -> Response:
        return Response(TrainingJobOutput(services.training_job_cancel(job=self.get_object())).data)


class TrainingJobEventListApi(TenantAPIView):
    resource_name = "training job"
    tenant_field = "job__tenant_id"

    def tenant_queryset(self) -> QuerySet[TrainingEvent]:
        return selectors.training_event_list(tenant=self.request.tenant, job_id=self.kwargs["id"])

    @extend_schema(
        operation_id="list_training_job_events",
        parameters=LIST_PARAMETERS,
        responses=list_of(TrainingEventOutput),
    )
    def get(self, request: Request, id: str) -> Response:
        if selectors.training_job_get(tenant=request.tenant, job_id=id) is None:
            raise NotFound(f"No such training job: {id!r}.", param="id")
        return self.list_response(self.get_queryset(), TrainingEventOutput)
