"""Usage, pricing and invoice endpoints (API.md "Usage, pricing, invoices"); scope billing."""

import csv
import io
from datetime import date, timedelta

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from billing import selectors
from billing.models import Invoice
from maas.base_views import TenantAPIView
from maas.errors import InvalidRequest
from maas.scopes import Scope
from maas.serializers import FixedFormatNegotiation

MAX_USAGE_DAYS = 366


class BillingView(TenantAPIView):
    scopes = {"GET": Scope.BILLING}


def _parse_day(raw: str | None, param: str, default: date) -> date:
    if raw in (None, ""):
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(
            f"{param} must be a date as YYYY-MM-DD; got {raw!r}.", param=param
        ) from None


def usage_query(request: Request) -> tuple[date, date, set[str]]:
    today = timezone.now().date()
    start = _parse_day(request.query_params.get("start"), "start", today.replace(day=1))
    end = _parse_day(request.query_params.get("end"), "end", today)
    if end < start:
        raise InvalidRequest("end must be on or after start.", param="end")
    if (end - start) > timedelta(days=MAX_USAGE_DAYS):
        raise InvalidRequest(
            f"Ask for at most {MAX_USAGE_DAYS} days at a time; narrow start and end.", param="end"
        )
    raw = request.query_params.get("group_by", "meter")
    group_by = {g.strip() for g in raw.split(",") if g.strip()}
    unknown = sorted(group_by - set(selectors.GROUP_BY_CHOICES))
    if unknown:
        raise InvalidRequest(
            f"group_by takes meter, model and day; {unknown[0]!r} is not one of them.",
            param="group_by",
        )
    return start, end, group_by


class UsageApi(BillingView):
    resource_name = "usage"

    def tenant_queryset(self) -> QuerySet:
        return Invoice.objects.none()  # usage is read through billing.selectors, per tenant

    def get(self, request: Request) -> Response:
        start, end, group_by = usage_query(request)
        data = selectors.usage_summary(
            tenant=request.tenant, start=start, end=end, group_by=group_by
        )
        return Response({"data": data, "currency": request.tenant.currency})


class UsageCsvApi(UsageApi):
    content_negotiation_class = FixedFormatNegotiation

    def get(self, request: Request) -> HttpResponse:
        start, end, group_by = usage_query(request)
        data = selectors.usage_summary(
            tenant=request.tenant, start=start, end=end, group_by=group_by
        )
        columns = [c for c in ("day", "meter", "model") if c in group_by or c == "meter"]
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

    def get(self, request: Request) -> Response:
        return Response(selectors.pricing_get(tenant=request.tenant))


class InvoiceListApi(BillingView):
    resource_name = "invoice"
    list_order_field = "period_start"

    def tenant_queryset(self) -> QuerySet[Invoice]:
        return selectors.invoice_list(tenant=self.request.tenant)

    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), selectors.invoice_to_json)


class InvoiceDetailApi(InvoiceListApi):
    def get(self, request: Request, id: str) -> Response:
        return Response(selectors.invoice_to_json(self.get_object()))


class InvoiceUpcomingApi(InvoiceListApi):
    def get(self, request: Request) -> Response:
        return Response(
            selectors.invoice_to_json(selectors.invoice_upcoming(tenant=request.tenant))
        )
