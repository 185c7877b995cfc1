"""Tenant and API key endpoints (API.md "Tenant and keys")."""

import orjson
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from maas.base_views import TenantAPIView
from maas.idempotency import idempotency_replay_as
from maas.schema import KEEPS_OBJECT, LIST_PARAMETERS
from maas.scopes import ALL_SCOPES, Scope
from maas.serializers import (
    ConstantField,
    MoneyInputField,
    StrictCharField,
    StrictSerializer,
    list_of,
)
from tenants import selectors, services
from tenants.models import ApiKey, Tenant


class LimitsOutput(serializers.Serializer):
    requests_per_minute = serializers.IntegerField()
    max_concurrent_jobs = serializers.IntegerField()
    max_upload_bytes = serializers.IntegerField()


class TenantOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("tenant")
    name = serializers.CharField()
    plan = serializers.ChoiceField(choices=["free", "standard", "enterprise"])
    status = serializers.CharField()
    limits = LimitsOutput()
    spend_limit = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class TenantUpdateInput(StrictSerializer):
    spend_limit = MoneyInputField(
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

    @extend_schema(operation_id="get_tenant", responses=TenantOutput)
    def get(self, request: Request) -> Response:
        return Response(TenantOutput(self.get_object()).data)

    @extend_schema(operation_id="update_tenant", request=TenantUpdateInput, responses=TenantOutput)
    def patch(self, request: Request) -> Response:
        data = TenantUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_update(tenant=self.get_object(), **data.validated_data)
        return Response(TenantOutput(tenant).data)


class ApiKeyOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("api_key")
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first 15 characters, to recognise it.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES))
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyCreatedOutput(ApiKeyOutput):
    api_key = serializers.CharField(
        allow_null=True,
        help_text="The key itself: shown this once, never again. A repeat of the request with "
        "its Idempotency-Key answers the same key with `api_key` null: the secret is never "
        "stored, so a client that lost the first answer revokes the key and makes another.",
    )


class ApiKeyCreateInput(StrictSerializer):
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES), min_length=1)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="In the future; null: never."
    )

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future (ISO 8601, UTC).")
        return value


class ApiKeyListApi(TenantAPIView):
    resource_name = "API key"
    scopes = {"GET": Scope.ADMIN, "POST": Scope.ADMIN}

    def tenant_queryset(self) -> QuerySet[ApiKey]:
        return selectors.api_key_list(tenant=self.request.tenant)

    @extend_schema(
        operation_id="list_api_keys", parameters=LIST_PARAMETERS, responses=list_of(ApiKeyOutput)
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), ApiKeyOutput)

    @extend_schema(
        operation_id="create_api_key",
        request=ApiKeyCreateInput,
        responses={201: ApiKeyCreatedOutput},
    )
    def post(self, request: Request) -> Response:
        data = ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.api_key_create(
            tenant=request.tenant, granted_by=request.auth.scopes, **data.validated_data
        )
        key.api_key = raw
        body = ApiKeyCreatedOutput(key).data
        response = Response(body, status=status.HTTP_201_CREATED)
        return idempotency_replay_as(response, orjson.dumps({**body, "api_key": None}))


class ApiKeyDetailApi(TenantAPIView):
    resource_name = "API key"
    scopes = {"GET": Scope.ADMIN, "DELETE": Scope.ADMIN}

    def tenant_queryset(self) -> QuerySet[ApiKey]:
        return selectors.api_key_list(tenant=self.request.tenant)

    @extend_schema(operation_id="get_api_key", responses=ApiKeyOutput)
    def get(self, request: Request, id: str) -> Response:
        return Response(ApiKeyOutput(self.get_object()).data)

    @extend_schema(
        operation_id="revoke_api_key",
        responses={200: ApiKeyOutput},
        description="Revokes the key: from the next request on it is 401. Answers the revoked "
        "key, which stays readable (with `revoked_at`).",
        extensions={KEEPS_OBJECT: True},
    )
    def delete(self, request: Request, id: str) -> Response:
        return Response(ApiKeyOutput(services.api_key_revoke(key=self.get_object())).data)
