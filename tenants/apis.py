"""Tenant and API key endpoints (API.md "Tenant and keys")."""

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from maas.base_views import TenantAPIView
from maas.scopes import ALL_SCOPES, Scope
from maas.serializers import StrictSerializer
from tenants import selectors, services
from tenants.models import ApiKey, Tenant


class LimitsOutput(serializers.Serializer):
    requests_per_minute = serializers.IntegerField()
    max_concurrent_jobs = serializers.IntegerField()
    max_upload_bytes = serializers.IntegerField()


class TenantOutput(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.SerializerMethodField()
    name = serializers.CharField()
    plan = serializers.CharField()
    status = serializers.CharField()
    limits = LimitsOutput()
    spend_limit = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_object(self, obj: Tenant) -> str:
        return "tenant"


class TenantPatchInput(StrictSerializer):
    spend_limit = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        allow_null=True,
        required=False,
        help_text='Monthly cap as a decimal string ("25.00"); null removes the cap.',
    )


class TenantApi(TenantAPIView):
    tenant_field = "pk"
    lookup_url_kwarg = None
    resource_name = "tenant"
    scopes = {"PATCH": Scope.ADMIN}

    def tenant_queryset(self) -> QuerySet[Tenant]:
        return Tenant.objects.all()

    @extend_schema(responses=TenantOutput)
    def get(self, request: Request) -> Response:
        return Response(TenantOutput(self.get_object()).data)

    @extend_schema(request=TenantPatchInput, responses=TenantOutput)
    def patch(self, request: Request) -> Response:
        data = TenantPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_update(tenant=self.get_object(), **data.validated_data)
        return Response(TenantOutput(tenant).data)


class ApiKeyOutput(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.SerializerMethodField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_object(self, obj: ApiKey) -> str:
        return "api_key"


class ApiKeyCreatedOutput(ApiKeyOutput):
    api_key = serializers.CharField(help_text="The key itself: shown this once, never again.")


class ApiKeyCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_SCOPES), allow_empty=False
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future (ISO 8601, UTC).")
        return value


def _key_out(key: ApiKey) -> dict:
    return ApiKeyOutput(key).data


class ApiKeyListApi(TenantAPIView):
    resource_name = "API key"
    scopes = {"GET": Scope.ADMIN, "POST": Scope.ADMIN}

    def tenant_queryset(self) -> QuerySet[ApiKey]:
        return selectors.api_key_list(tenant=self.request.tenant)

    @extend_schema(responses=ApiKeyOutput(many=True))
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), _key_out)

    @extend_schema(request=ApiKeyCreateInput, responses={201: ApiKeyCreatedOutput})
    def post(self, request: Request) -> Response:
        data = ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.api_key_create(tenant=request.tenant, **data.validated_data)
        return Response({**_key_out(key), "api_key": raw}, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(TenantAPIView):
    resource_name = "API key"
    scopes = {"GET": Scope.ADMIN, "DELETE": Scope.ADMIN}

    def tenant_queryset(self) -> QuerySet[ApiKey]:
        return selectors.api_key_list(tenant=self.request.tenant)

    @extend_schema(responses=ApiKeyOutput)
    def get(self, request: Request, id: str) -> Response:
        return Response(_key_out(self.get_object()))

    @extend_schema(responses=ApiKeyOutput)
    def delete(self, request: Request, id: str) -> Response:
        return Response(_key_out(services.api_key_revoke(key=self.get_object())))
