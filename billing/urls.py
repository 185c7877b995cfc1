from django.urls import path

import maas.ids  # noqa: F401  (registers the oid path converter)
from billing import apis

urlpatterns = [
    path("usage", apis.UsageApi.as_view(), name="usage"),
    path("usage.csv", apis.UsageCsvApi.as_view(), name="usage-csv"),
    path("pricing", apis.PricingApi.as_view(), name="pricing"),
    path("invoices", apis.InvoiceListApi.as_view(), name="invoice-list"),
    path("invoices/upcoming", apis.InvoiceUpcomingApi.as_view(), name="invoice-upcoming"),
    path("invoices/<oid:id>", apis.InvoiceDetailApi.as_view(), name="invoice-detail"),
]
