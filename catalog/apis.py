"""Dataset endpoints (API.md "Datasets")."""

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors, services
from catalog.artifacts import artifact_stream
from catalog.models import Dataset, Model, ModelVersion
from catalog.outputs import (
    AliasOutput,
    ModelVersionOutput,
)
from catalog.parsing import TableError
from catalog.uploads import QuotaHashingUploadHandler
from maas.base_views import TenantAPIView
from maas.errors import Conflict, InvalidRequest, NotFound, PayloadTooLarge
from maas.schema import LIST_PARAMETERS, ErrorOutput
from maas.serializers import (
    ConstantField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    list_of,
)

# Room for the multipart envelope (boundaries, headers, a name field) around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class ColumnOutput(serializers.Serializer):
    name = serializers.CharField()
    dtype = serializers.ChoiceField(choices=["number", "string", "boolean", "image"])
    distinct = serializers.IntegerField(help_text="Distinct values seen (counted up to a cap).")
    missing = serializers.IntegerField(help_text="Empty values.")


class ImagesOutput(serializers.Serializer):
    width = serializers.IntegerField(help_text="The most common width, in pixels.")
    height = serializers.IntegerField(help_text="The most common height, in pixels.")
    channels = serializers.IntegerField(help_text="The most common: 1 (gray) or 3 (color).")
    classes = serializers.DictField(
        child=serializers.IntegerField(), help_text="Images per class folder."
    )


class DatasetOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("dataset")
    name = serializers.CharField()
    format = serializers.ChoiceField(choices=Dataset.Format.values)
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    n_rows = serializers.IntegerField()
    columns = ColumnOutput(many=True)
    images = ImagesOutput(
        allow_null=True, help_text="Image datasets (format `images`): their shape; null for tables."
    )
    created_at = serializers.DateTimeField()


class DatasetDeletedOutput(DatasetOutput):
    deleted = serializers.BooleanField(default=True, help_text="Always true.")


class DatasetUploadInput(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the table parser says what is wrong with it
        help_text="CSV with a header row, JSON Lines of flat objects, or a ZIP of PNG/JPEG "
        "images in one folder per class (cat/001.png).",
    )
    name = StrictCharField(required=False, max_length=200, help_text="Defaults to the file's name.")


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"This upload is larger than your plan's limit of {limit:,} bytes per dataset "
        f"({size:,} bytes or more). Split the file, or ask for a larger plan.",
        param="file",
    )


class DatasetListApi(TenantAPIView):
    resource_name = "dataset"
    parser_classes = [MultiPartParser]
    # The upload streams to disk for as long as the client sends; the writes that follow are
    # atomic on their own (catalog.services.dataset_create).
    atomic_writes = False

    def tenant_queryset(self) -> QuerySet[Dataset]:
        return selectors.dataset_list(tenant=self.request.tenant)

    @extend_schema(
        operation_id="list_datasets", parameters=LIST_PARAMETERS, responses=list_of(DatasetOutput)
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), DatasetOutput)

    @extend_schema(
        operation_id="create_dataset",
        request={"multipart/form-data": DatasetUploadInput},
        responses={201: DatasetOutput},
    )
    def post(self, request: Request) -> Response:
        limit = request.tenant.limits.max_upload_bytes
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit + MULTIPART_OVERHEAD:
            raise _too_large(declared, limit)  # refused before a byte of the body is read
        handler = QuotaHashingUploadHandler(request._request, limit=limit)
        request._request.upload_handlers = [handler]
        upload = request.FILES.get("file")
        if handler.exceeded:
            raise _too_large(handler.received, limit)
        if upload is None:
            raise InvalidRequest(
                "Send the table as a multipart/form-data field named 'file' "
                "(curl -F file=@data.csv).",
                param="file",
            )
        form = DatasetUploadInput(data={"file": upload, **request.data.dict()})
        form.is_valid(raise_exception=True)
        name = form.validated_data.get("name") or (upload.name or "dataset")[:200]
        try:
            dataset = services.dataset_create(
                tenant=request.tenant, upload=upload, name=name, sha256=handler.digest.hexdigest()
            )
        except TableError as exc:
            raise InvalidRequest(str(exc), code="invalid_file", param="file") from None
        return Response(DatasetOutput(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(TenantAPIView):
    resource_name = "dataset"

    def tenant_queryset(self) -> QuerySet[Dataset]:
        return selectors.dataset_list(tenant=self.request.tenant)

    @extend_schema(operation_id="get_dataset", responses=DatasetOutput)
    def get(self, request: Request, id: str) -> Response:
        return Response(DatasetOutput(self.get_object()).data)

    @extend_schema(
        operation_id="delete_dataset",
        responses={200: DatasetDeletedOutput},
        description="Deletes the dataset and its file; answers it, with `deleted: true`. Jobs "
        "that used it keep its id.",
    )
    def delete(self, request: Request, id: str) -> Response:
        dataset = self.get_object()
        body = DatasetDeletedOutput(dataset).data
        services.dataset_delete(dataset=dataset)
        return Response(body)


class ModelOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("model")
    name = serializers.CharField()
    task = serializers.ChoiceField(choices=["classification", "regression"])
    latest_version = serializers.SerializerMethodField()
    aliases = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_latest_version(self, model: Model) -> int | None:
        return model.latest_version or None

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "Alias name -> version number (`latest` is built in, not listed).",
        }
    )
    def get_aliases(self, model: Model) -> dict[str, int]:
        return selectors.model_aliases(model=model)


class AliasInput(StrictSerializer):
    version = StrictIntegerField(min_value=1, max_value=2_147_483_647)


class AliasDeletedOutput(AliasOutput):
    deleted = serializers.BooleanField(default=True, help_text="Always true.")


ALIAS_PATH = OpenApiParameter(
    "alias",
    str,
    OpenApiParameter.PATH,
    pattern="^[a-z][a-z0-9_-]{0,31}$",
    description="1 to 32 lowercase letters, digits, '_' or '-', starting with a letter; "
    "not `latest`.",
)


class ModelAliasApi(TenantAPIView):
    resource_name = "model"

    def tenant_queryset(self) -> QuerySet[Model]:
        return selectors.model_list(tenant=self.request.tenant)

    @extend_schema(
        operation_id="set_model_alias",
        parameters=[ALIAS_PATH],
        request=AliasInput,
        responses=AliasOutput,
        description="Points the alias at a version (created if absent), atomically; predict, "
        "explain and new batch jobs asking for it serve that version from the next request, "
        "in every process. Every move is kept in the audit trail (admin).",
    )
    def put(self, request: Request, id: str, alias: str) -> Response:
        model = self.get_object()
        data = AliasInput(data=request.data)
        data.is_valid(raise_exception=True)
        moved = services.model_alias_set(
            model=model,
            name=alias,
            version=data.validated_data["version"],
            actor=request.maas_principal.key_id,
        )
        return Response(AliasOutput(moved).data)

    @extend_schema(
        operation_id="delete_model_alias",
        parameters=[ALIAS_PATH],
        responses={200: AliasDeletedOutput},
        description="Removes the alias; asking for it is then 404. Answers it, with "
        "`deleted: true`.",
    )
    def delete(self, request: Request, id: str, alias: str) -> Response:
        removed = services.model_alias_delete(
            model=self.get_object(), name=alias, actor=request.maas_principal.key_id
        )
        return Response(AliasDeletedOutput(removed).data)


class ModelDeletedOutput(ModelOutput):
    deleted = serializers.BooleanField(default=True, help_text="Always true.")


class ModelListApi(TenantAPIView):
    resource_name = "model"

    def tenant_queryset(self) -> QuerySet[Model]:
        return selectors.model_list(tenant=self.request.tenant)

    @extend_schema(
        operation_id="list_models", parameters=LIST_PARAMETERS, responses=list_of(ModelOutput)
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), ModelOutput)


class ModelDetailApi(TenantAPIView):
    resource_name = "model"

    def tenant_queryset(self) -> QuerySet[Model]:
        return selectors.model_list(tenant=self.request.tenant)

    @extend_schema(operation_id="get_model", responses=ModelOutput)
    def get(self, request: Request, id: str) -> Response:
        return Response(ModelOutput(self.get_object()).data)

    @extend_schema(
        operation_id="delete_model",
        responses={200: ModelDeletedOutput},
        description="Removes the model and its versions from serving; answers it, with "
        "`deleted: true`.",
    )
    def delete(self, request: Request, id: str) -> Response:
        model = self.get_object()
        body = ModelDeletedOutput(model).data
        services.model_delete(model=model)
        return Response(body)


class ModelVersionListApi(TenantAPIView):
    resource_name = "model version"
    tenant_field = "model__tenant_id"
    lookup_url_kwarg = "n"
    lookup_field = "version"

    def tenant_queryset(self) -> QuerySet[ModelVersion]:
        return selectors.model_versions(tenant=self.request.tenant, model_id=self.kwargs["id"])

    def _require_model(self) -> None:
        if selectors.model_get(tenant=self.request.tenant, model_id=self.kwargs["id"]) is None:
            raise NotFound(f"No such model: {self.kwargs['id']!r}.", param="id")

    @extend_schema(
        operation_id="list_model_versions",
        parameters=LIST_PARAMETERS,
        responses=list_of(ModelVersionOutput),
    )
    def get(self, request: Request, id: str) -> Response:
        self._require_model()
        return self.list_response(self.get_queryset(), ModelVersionOutput)


class ModelVersionDetailApi(ModelVersionListApi):
    @extend_schema(
        operation_id="get_model_version",
        parameters=[OpenApiParameter("n", int, OpenApiParameter.PATH, description="1, 2, ...")],
        responses=ModelVersionOutput,
    )
    def get(self, request: Request, id: str, n: str) -> Response:
        return Response(ModelVersionOutput(self._version()).data)

    def _version(self) -> ModelVersion:
        self._require_model()
        n = self.kwargs["n"]
        if not n.isdigit():
            raise NotFound(
                f"No version {n!r} of model {self.kwargs['id']!r}; versions are numbers.",
                param="n",
            )
        return self.get_object()


SHA256_HEADER = OpenApiParameter(
    "X-Content-SHA256",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    required=True,
    description="The file's sha256 (hex), as recorded when the worker wrote it.",
)


class ModelVersionOnnxApi(ModelVersionDetailApi):
    @extend_schema(
        operation_id="get_model_version_onnx",
        parameters=[
            OpenApiParameter("n", int, OpenApiParameter.PATH, description="1, 2, ..."),
            SHA256_HEADER,
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            409: OpenApiResponse(
                ErrorOutput, description="The version has no export that passed its check."
            ),
        },
        description="The version's ONNX file, to run outside maas (docs/models.md). Its inputs "
        "are one [n, 1] tensor per feature in the signature's order, its last output the class "
        "probabilities (in `signature.classes` order) or the predicted value.",
    )
    def get(self, request: Request, id: str, n: str) -> StreamingHttpResponse:
        version = self._version()
        if not version.onnx_path:
            raise Conflict(
                f"Version {version.version} of model {id} has no ONNX export: "
                f"{_no_export_reason(version)}",
                code="model_not_exportable",
            )
        size, chunks = artifact_stream(version.onnx_path, version.onnx_sha256)
        response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
        response["Content-Length"] = str(size)
        response["X-Content-SHA256"] = version.onnx_sha256
        response["Content-Disposition"] = (
            f'attachment; filename="{version.model_id}-v{version.version}.onnx"'
        )
        return response


class PerClassOutput(serializers.Serializer):
    label = serializers.JSONField(help_text="The class, as in `signature.classes`.")
    precision = serializers.FloatField()
    recall = serializers.FloatField()
    f1 = serializers.FloatField()
    support = serializers.IntegerField(help_text="Validation rows of this class.")


class ConfusionMatrixOutput(serializers.Serializer):
    labels = serializers.ListField(child=serializers.JSONField())
    matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="matrix[i][j]: rows of class labels[i] predicted as labels[j].",
    )


class ValidationOutput(serializers.Serializer):
    n_rows = serializers.IntegerField()
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))
    per_class = PerClassOutput(many=True, required=False)
    confusion_matrix = ConfusionMatrixOutput(required=False)
    roc_auc = serializers.FloatField(
        allow_null=True, required=False, help_text="Null where undefined (a class absent)."
    )


class FoldMetricOutput(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True)
    std = serializers.FloatField(allow_null=True)
    folds = serializers.ListField(child=serializers.FloatField(allow_null=True))


class CrossValidationOutput(serializers.Serializer):
    folds = serializers.IntegerField()
    metrics = serializers.DictField(child=FoldMetricOutput())


class FeatureImportanceOutput(serializers.Serializer):
    feature = serializers.CharField()
    importance = serializers.FloatField(
        help_text="Mean drop in accuracy (classifiers) or R² (regressors) when the feature's "
        "validation values are shuffled."
    )
    std = serializers.FloatField()


class EvaluationOutput(serializers.Serializer):
    object = ConstantField("model_evaluation")
    model = serializers.CharField()
    version = serializers.IntegerField()
    validation = ValidationOutput()
    cross_validation = CrossValidationOutput(allow_null=True)
    feature_importance = FeatureImportanceOutput(many=True)


class ModelVersionEvaluationApi(ModelVersionDetailApi):
    @extend_schema(
        operation_id="get_model_version_evaluation",
        parameters=[OpenApiParameter("n", int, OpenApiParameter.PATH, description="1, 2, ...")],
        responses={
            200: EvaluationOutput,
            409: OpenApiResponse(
                ErrorOutput, description="The version was trained before evaluations were kept."
            ),
        },
        description="The validation split's full report, the cross-validation the training "
        "job asked for (`cv_folds`), and permutation feature importance, largest first.",
    )
    def get(self, request: Request, id: str, n: str) -> Response:
        version = self._version()
        if not version.evaluation:
            raise Conflict(
                f"Version {version.version} of model {id} was trained before evaluations were "
                "kept; train it again to get one.",
                code="evaluation_unavailable",
            )
        body = {"model": version.model_id, "version": version.version, **version.evaluation}
        return Response(EvaluationOutput(body).data)


def _no_export_reason(version: ModelVersion) -> str:
    reason = (version.onnx_parity or {}).get("error") or (version.onnx_parity or {}).get("reason")
    if reason:
        return f"{reason}."
    return "its export did not match the native model on the validation rows."
