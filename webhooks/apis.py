"""Events and webhook endpoints (API.md "Webhooks and events")."""

import orjson
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from maas.base_views import TenantAPIView
from maas.idempotency import idempotency_replay_as
from maas.schema import LIST_PARAMETERS
from maas.scopes import Scope
from maas.serializers import ConstantField, StrictCharField, StrictSerializer, list_of
from webhooks import selectors, services
from webhooks.models import EVENT_TYPES, Event, WebhookDelivery, WebhookEndpoint

_EVENT_CHOICES = [*EVENT_TYPES, "*"]


class EventOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("event")
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    created_at = serializers.DateTimeField()
    data = serializers.DictField(help_text='{"object": the object as its GET answered then}')


class WebhookEndpointOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("webhook_endpoint")
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=_EVENT_CHOICES))
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookEndpoint.Status.choices)
    created_at = serializers.DateTimeField()


class WebhookEndpointCreatedOutput(WebhookEndpointOutput):
    secret = serializers.CharField(
        allow_null=True,
        help_text="whsec_...: shown once (null when a retry with the same Idempotency-Key "
        "replays this answer).",
    )


class WebhookEndpointCreateInput(StrictSerializer):
    url = StrictCharField(max_length=2000, help_text="https://... that answers 2xx within 15 s.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=_EVENT_CHOICES), min_length=1
    )
    description = StrictCharField(required=False, allow_blank=True, max_length=500)


class WebhookEndpointUpdateInput(StrictSerializer):
    url = StrictCharField(required=False, max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=_EVENT_CHOICES), min_length=1, required=False
    )
    description = StrictCharField(required=False, allow_blank=True, max_length=500)
    status = serializers.ChoiceField(choices=WebhookEndpoint.Status.choices, required=False)


class WebhookDeliveryOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("webhook_delivery")
    endpoint = serializers.CharField(source="endpoint_id")
    event = serializers.CharField(source="event_id")
    type = serializers.CharField(source="event.type")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    response_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class EventListApi(TenantAPIView):
    resource_name = "event"

    def tenant_queryset(self) -> QuerySet[Event]:
        return selectors.event_list(tenant=self.request.tenant)

    @extend_schema(
        operation_id="list_events", parameters=LIST_PARAMETERS, responses=list_of(EventOutput)
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), EventOutput)


class EventDetailApi(EventListApi):
    @extend_schema(operation_id="get_event", responses=EventOutput)
    def get(self, request: Request, id: str) -> Response:
        return Response(EventOutput(self.get_object()).data)


class _EndpointView(TenantAPIView):
    resource_name = "webhook endpoint"
    scopes = {m: Scope.ADMIN for m in ("GET", "HEAD", "POST", "PATCH", "DELETE")}

    def tenant_queryset(self) -> QuerySet[WebhookEndpoint]:
        return selectors.webhook_endpoint_list(tenant=self.request.tenant)


class WebhookEndpointListApi(_EndpointView):
    @extend_schema(
        operation_id="list_webhook_endpoints",
        parameters=LIST_PARAMETERS,
        responses=list_of(WebhookEndpointOutput),
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), WebhookEndpointOutput)

    @extend_schema(
        operation_id="create_webhook_endpoint",
        request=WebhookEndpointCreateInput,
        responses={201: WebhookEndpointCreatedOutput},
        description='Events of the listed types (or all, `["*"]`) are POSTed to `url`, '
        "signed per the Standard Webhooks specification with the secret answered here once.",
    )
    def post(self, request: Request) -> Response:
        data = WebhookEndpointCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(tenant=request.tenant, **data.validated_data)
        body = WebhookEndpointCreatedOutput(endpoint).data
        response = Response(body, status=status.HTTP_201_CREATED)
        return idempotency_replay_as(response, orjson.dumps({**body, "secret": None}))


class WebhookEndpointDetailApi(_EndpointView):
    @extend_schema(operation_id="get_webhook_endpoint", responses=WebhookEndpointOutput)
    def get(self, request: Request, id: str) -> Response:
        return Response(WebhookEndpointOutput(self.get_object()).data)

    @extend_schema(
        operation_id="update_webhook_endpoint",
        request=WebhookEndpointUpdateInput,
        responses=WebhookEndpointOutput,
    )
    def patch(self, request: Request, id: str) -> Response:
        endpoint = self.get_object()
        data = WebhookEndpointUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.webhook_endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointOutput(updated).data)

    @extend_schema(
        operation_id="delete_webhook_endpoint",
        responses={200: WebhookEndpointOutput},
        description="Deletes the endpoint and its delivery log; answers it.",
    )
    def delete(self, request: Request, id: str) -> Response:
        endpoint = self.get_object()
        body = WebhookEndpointOutput(endpoint).data
        endpoint.delete()
        return Response(body)


class WebhookEndpointRotateApi(_EndpointView):
    @extend_schema(
        operation_id="rotate_webhook_endpoint_secret",
        request=None,
        responses=WebhookEndpointCreatedOutput,
        description="A new secret, answered once; the old one stops signing at once.",
    )
    def post(self, request: Request, id: str) -> Response:
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        body = WebhookEndpointCreatedOutput(endpoint).data
        return idempotency_replay_as(Response(body), orjson.dumps({**body, "secret": None}))


class WebhookDeliveryListApi(TenantAPIView):
    resource_name = "webhook endpoint"
    tenant_field = "endpoint__tenant_id"
    scopes = {"GET": Scope.ADMIN, "HEAD": Scope.ADMIN}

    def tenant_queryset(self) -> QuerySet[WebhookDelivery]:
        return selectors.webhook_delivery_list(tenant=self.request.tenant).filter(
            endpoint_id=self.kwargs["id"]
        )

    @extend_schema(
        operation_id="list_webhook_deliveries",
        parameters=LIST_PARAMETERS,
        responses=list_of(WebhookDeliveryOutput),
    )
    def get(self, request: Request, id: str) -> Response:
        if not selectors.webhook_endpoint_list(tenant=request.tenant).filter(pk=id).exists():
            from maas.errors import NotFound

            raise NotFound(f"No such webhook endpoint: {id!r}.", param="id")
        return self.list_response(self.get_queryset(), WebhookDeliveryOutput)


class WebhookDeliveryRedeliverApi(TenantAPIView):
    resource_name = "webhook delivery"
    tenant_field = "endpoint__tenant_id"
    scopes = {"POST": Scope.ADMIN}

    def tenant_queryset(self) -> QuerySet[WebhookDelivery]:
        return selectors.webhook_delivery_list(tenant=self.request.tenant)

    @extend_schema(
        operation_id="redeliver_webhook_delivery",
        request=None,
        responses={202: WebhookDeliveryOutput},
        description="Sends the delivery's event to its endpoint again, as a new delivery "
        "(same `webhook-id`).",
    )
    def post(self, request: Request, id: str) -> Response:
        again = services.webhook_delivery_redeliver(delivery=self.get_object())
        return Response(WebhookDeliveryOutput(again).data, status=status.HTTP_202_ACCEPTED)
