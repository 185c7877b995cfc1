"""Dataset endpoints (API.md "Datasets")."""

from django.db.models import QuerySet
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors, services
from catalog.models import Dataset, Model, ModelVersion
from catalog.parsing import TableError
from catalog.uploads import QuotaHashingUploadHandler
from maas.base_views import TenantAPIView
from maas.errors import InvalidRequest, NotFound, PayloadTooLarge
from maas.serializers import iso_utc

# Room for the multipart envelope (boundaries, headers, a name field) around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class DatasetOutput(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.SerializerMethodField()
    name = serializers.CharField()
    format = serializers.CharField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    n_rows = serializers.IntegerField()
    columns = serializers.ListField(child=serializers.DictField())
    created_at = serializers.DateTimeField()

    def get_object(self, obj: Dataset) -> str:
        return "dataset"


def _out(dataset: Dataset) -> dict:
    return DatasetOutput(dataset).data


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

    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), _out)

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
        name = (request.data.get("name") or upload.name or "dataset")[:200]
        try:
            dataset = services.dataset_create(
                tenant=request.tenant, upload=upload, name=name, sha256=handler.digest.hexdigest()
            )
        except TableError as exc:
            raise InvalidRequest(str(exc), code="invalid_file", param="file") from None
        return Response(_out(dataset), status=status.HTTP_201_CREATED)


class DatasetDetailApi(TenantAPIView):
    resource_name = "dataset"

    def tenant_queryset(self) -> QuerySet[Dataset]:
        return selectors.dataset_list(tenant=self.request.tenant)

    def get(self, request: Request, id: str) -> Response:
        return Response(_out(self.get_object()))

    def delete(self, request: Request, id: str) -> Response:
        dataset = self.get_object()
        body = {**_out(dataset), "deleted": True}
        services.dataset_delete(dataset=dataset)
        return Response(body)


def model_json(model: Model) -> dict:
    return {
        "id": model.id,
        "object": "model",
        "name": model.name,
        "task": model.task,
        "latest_version": model.latest_version or None,
        "created_at": iso_utc(model.created_at),
    }


def version_json(version: ModelVersion) -> dict:
    return {
        "object": "model_version",
        "model": version.model_id,
        "version": version.version,
        "algorithm": version.algorithm,
        "framework": version.framework,
        "price_tier": version.price_tier,
        "params": version.params,
        "metrics": version.metrics,
        "signature": version.signature,
        "training_job": version.training_job or None,
        "onnx": {"available": bool(version.onnx_path), **version.onnx_parity},
        "created_at": iso_utc(version.created_at),
    }


class ModelListApi(TenantAPIView):
    resource_name = "model"

    def tenant_queryset(self) -> QuerySet[Model]:
        return selectors.model_list(tenant=self.request.tenant)

    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), model_json)


class ModelDetailApi(ModelListApi):
    def get(self, request: Request, id: str) -> Response:
        return Response(model_json(self.get_object()))

    def delete(self, request: Request, id: str) -> Response:
        model = self.get_object()
        body = {**model_json(model), "deleted": True}
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

    def get(self, request: Request, id: str) -> Response:
        self._require_model()
        return self.list_response(self.get_queryset(), version_json)


class ModelVersionDetailApi(ModelVersionListApi):
    def get(self, request: Request, id: str, n: str) -> Response:
        self._require_model()
        if not n.isdigit():
            raise NotFound(f"No version {n!r} of model {id!r}; versions are numbers.", param="n")
        return Response(version_json(self.get_object()))
