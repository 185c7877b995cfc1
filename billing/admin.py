"""Operators' billing admin: price books, accounts, invoices, alerts and usage reports."""

import csv
from collections import defaultdict
from datetime import UTC, datetime

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from billing.meters import METER_ORDER
from billing.models import (
    BillingAccount,
    Invoice,
    InvoiceLine,
    MeterPrice,
    PriceBook,
    SpendAlert,
    UsageDaily,
)
from billing.reports import daily_usage
from billing.rollups import month_start
from tenants.selectors import tenant_list


class MeterPriceInline(admin.StackedInline):
    model = MeterPrice
    extra = 0


@admin.register(PriceBook)
class PriceBookAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "currency", "updated_at")
    inlines = (MeterPriceInline,)


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ("tenant", "billing_email", "price_book", "stripe_customer_id")
    search_fields = ("tenant__id", "tenant__name", "billing_email", "stripe_customer_id")
    autocomplete_fields = ("tenant",)


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fk_name = "invoice"
    extra = 0
    can_delete = False
    fields = ("position", "kind", "description", "quantity", "unit_amount", "amount", "adjusts")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "period_start", "status", "total", "stripe_invoice_id")
    list_filter = ("status", "period_start")
    search_fields = ("id", "tenant__id", "tenant__name", "stripe_invoice_id")
    inlines = (InvoiceLineInline,)
    actions = ("export_csv", "mark_void")
    readonly_fields = [f.name for f in Invoice._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # invoices are made by the closing task, never by hand

    @admin.action(description="Export lines as CSV")
    def export_csv(self, request, queryset):
        lines = InvoiceLine.objects.filter(invoice__in=queryset).select_related("invoice")
        return _csv_response(
            "invoice-lines.csv",
            [
                "invoice",
                "tenant",
                "period",
                "kind",
                "meter",
                "price_tier",
                "quantity",
                "unit_amount",
                "amount",
            ],
            (
                [
                    line.invoice_id,
                    line.invoice.tenant_id,
                    f"{line.invoice.period_start:%Y-%m}",
                    line.kind,
                    line.meter,
                    line.price_tier,
                    line.quantity,
                    line.unit_amount,
                    line.amount,
                ]
                for line in lines
            ),
        )

    @admin.action(description="Void selected invoices")
    def mark_void(self, request, queryset):
        count = queryset.exclude(status=Invoice.Status.PAID).update(status=Invoice.Status.VOID)
        self.message_user(request, f"Voided {count} invoice(s).", messages.SUCCESS)


@admin.register(SpendAlert)
class SpendAlertAdmin(admin.ModelAdmin):
    list_display = (
        "tenant",
        "period_start",
        "threshold",
        "amount",
        "spend_limit",
        "emailed_to",
        "created_at",
    )
    list_filter = ("threshold", "period_start")
    search_fields = ("tenant__id", "tenant__name")


@admin.register(UsageDaily)
class UsageDailyAdmin(admin.ModelAdmin):
    """Daily usage rows, and the per-tenant report with a chart (the "Usage report" link)."""

    list_display = ("tenant", "meter", "bucket", "quantity", "event_count")
    list_filter = ("meter", "bucket")
    search_fields = ("tenant__id", "tenant__name")
    change_list_template = "admin/billing/usagedaily_change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "report/", self.admin_site.admin_view(self.report_view), name="billing_usage_report"
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest):
        tenants = tenant_list().order_by("name")
        tenant = tenants.filter(pk=request.GET.get("tenant")).first() or tenants.first()
        try:
            period = datetime.strptime(request.GET.get("month", ""), "%Y-%m").replace(tzinfo=UTC)
        except ValueError:
            period = month_start(timezone.now())
        rows = daily_usage(tenant.pk, period) if tenant else []
        if request.GET.get("format") == "csv":
            return _csv_response(
                f"usage-{tenant.pk if tenant else 'none'}-{period:%Y-%m}.csv",
                ["day", "meter", "quantity"],
                rows,
            )
        charts = []
        by_meter: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for day, meter, quantity in rows:
            by_meter[meter].append((day, float(quantity)))
        for meter in METER_ORDER:
            points = by_meter.get(meter)
            if not points:
                continue
            peak = max(q for _, q in points) or 1.0
            bars = [
                {
                    "x": i * 22,
                    "y": round(130 - q / peak * 120, 1),
                    "height": round(q / peak * 120, 1),
                    "day": day,
                    "quantity": q,
                }
                for i, (day, q) in enumerate(points)
            ]
            charts.append(
                {"meter": meter, "bars": bars, "width": max(len(bars) * 22, 100), "peak": peak}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Usage report",
            "tenants": tenants,
            "tenant": tenant,
            "month": f"{period:%Y-%m}",
            "rows": rows,
            "charts": charts,
        }
        return TemplateResponse(request, "admin/billing/usage_report.html", context)
