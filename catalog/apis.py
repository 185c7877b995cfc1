"""Dataset endpoints (API.md "Datasets")."""

from django.db.models import QuerySet
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors, services
from catalog.models import Dataset
from catalog.parsing import TableError
from catalog.uploads import QuotaHashingUploadHandler
from maas.base_views import TenantAPIView
from maas.errors import InvalidRequest, PayloadTooLarge

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
