"""Usage, pricing and invoice endpoints (API.md "Usage, pricing, invoices"); scope billing."""

import csv
import io
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from billing import selectors
from billing.models import Invoice
from billing.serializers import InvoiceOutput, PricingOutput, UsageOutput, UsageRowOutput
from maas.base_views import TenantAPIView
from maas.pagination import query_value
from maas.schema import LIST_PARAMETERS
from maas.scopes import Scope
from maas.serializers import list_of

MAX_USAGE_DAYS = 366
GROUP_BY = selectors.GROUP_BY_CHOICES


class BillingView(TenantAPIView):
    scopes = {"GET": Scope.BILLING}


class GroupByField(serializers.Field):
    """`meter,model,day`: any of them, comma-separated; `meter` is always included."""

    def to_internal_value(self, data: Any) -> set[str]:
        if not isinstance(data, str) or data == "":
            raise serializers.ValidationError(
                "group_by takes meter, model and day, comma-separated; leave it out to group by "
                "meter alone."
            )
        parts = data.split(",")
        unknown = [p for p in parts if p not in GROUP_BY]
        if unknown:
            raise serializers.ValidationError(
                f"group_by takes meter, model and day, comma-separated; {unknown[0]!r} is not "
                "one of them."
            )
        return {"meter", *parts}


class UsageQueryInput(serializers.Serializer):
    start = serializers.DateField(
        required=False, error_messages={"invalid": "Must be a date as YYYY-MM-DD."}
    )
    end = serializers.DateField(
        required=False, error_messages={"invalid": "Must be a date as YYYY-MM-DD."}
    )
    group_by = GroupByField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = timezone.now().date()
        start = attrs.get("start") or today.replace(day=1)
        end = attrs.get("end") or today
        if end < start:
            raise serializers.ValidationError({"end": "end must be on or after start."})
        if end - start > timedelta(days=MAX_USAGE_DAYS):
            raise serializers.ValidationError(
                {"end": f"Ask for at most {MAX_USAGE_DAYS} days at a time; narrow start and end."}
            )
        return {"start": start, "end": end, "group_by": attrs.get("group_by", {"meter"})}


USAGE_PARAMETERS = [
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description="First day (UTC), inclusive; the 1st by default."
    ),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (UTC), inclusive; today."),
    OpenApiParameter(
        "group_by",
        {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(GROUP_BY)}},
        style="form",
        explode=False,
        description="Any of meter, model, day, comma-separated; meter is always included.",
    ),
]


def usage_query(request: Request) -> tuple[date, date, set[str]]:
    given = {name: query_value(request, name) for name in UsageQueryInput().fields}
    query = UsageQueryInput(
        data={name: value for name, value in given.items() if value is not None}
    )
    query.is_valid(raise_exception=True)
    return (
        query.validated_data["start"],
        query.validated_data["end"],
        query.validated_data["group_by"],
    )


class UsageApi(BillingView):
    resource_name = "usage"

    def tenant_queryset(self) -> QuerySet:
        return Invoice.objects.none()  # usage is read through billing.selectors, per tenant

    @extend_schema(operation_id="get_usage", parameters=USAGE_PARAMETERS, responses=UsageOutput)
    def get(self, request: Request) -> Response:
        start, end, group_by = usage_query(request)
        rows = selectors.usage_summary(
            tenant=request.tenant, start=start, end=end, group_by=group_by
        )
        body = {"data": rows, "currency": request.tenant.currency}
        return Response(UsageOutput(body, context={"group_by": group_by}).data)


class UsageCsvApi(UsageApi):
    @extend_schema(
        operation_id="get_usage_csv",
        parameters=USAGE_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The usage report as CSV: day (with group_by day), meter, model (with "
        "group_by model), quantity, amount, currency.",
    )
    def get(self, request: Request) -> HttpResponse:
        start, end, group_by = usage_query(request)
        rows = selectors.usage_summary(
            tenant=request.tenant, start=start, end=end, group_by=group_by
        )
        data = UsageRowOutput(rows, many=True, context={"group_by": group_by}).data
        columns = [c for c in ("day", "meter", "model") if c in group_by]
        columns += ["quantity", "amount", "currency"]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in data:
            writer.writerow({**row, "currency": request.tenant.currency})
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="usage-{start}-{end}.csv"'
        return response


class PricingApi(BillingView):
    resource_name = "pricing"

    def tenant_queryset(self) -> QuerySet:
        return Invoice.objects.none()

    @extend_schema(operation_id="get_pricing", responses=PricingOutput)
    def get(self, request: Request) -> Response:
        return Response(PricingOutput(selectors.pricing_get(tenant=request.tenant)).data)


class InvoiceListApi(BillingView):
    resource_name = "invoice"
    list_order_field = "period_start"

    def tenant_queryset(self) -> QuerySet[Invoice]:
        return selectors.invoice_list(tenant=self.request.tenant)

    @extend_schema(
        operation_id="list_invoices", parameters=LIST_PARAMETERS, responses=list_of(InvoiceOutput)
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), InvoiceOutput)


class InvoiceDetailApi(InvoiceListApi):
    @extend_schema(operation_id="get_invoice", responses=InvoiceOutput)
    def get(self, request: Request, id: str) -> Response:
        return Response(InvoiceOutput(self.get_object()).data)


class InvoiceUpcomingApi(InvoiceListApi):
    @extend_schema(
        operation_id="get_upcoming_invoice",
        responses=InvoiceOutput,
        description="The current month's invoice as it stands now: a preview, nothing is saved.",
    )
    def get(self, request: Request) -> Response:
        return Response(InvoiceOutput(selectors.invoice_upcoming(tenant=request.tenant)).data)
