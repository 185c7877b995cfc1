"""Invoices: the upcoming one (as it stands now) and past ones, their lines, and PDFs."""

from django.http import HttpResponse
from django.shortcuts import render

from billing.selectors import invoice_list, invoice_upcoming
from console.access import ConsoleView
from console.pdf import PdfLine, invoice_pdf


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class InvoiceListView(ConsoleView):
    def get(self, request):
        return render(
            request,
            "console/invoices.html",
            self.context(
                upcoming=invoice_upcoming(tenant=self.tenant),
                invoices=invoice_list(tenant=self.tenant).order_by("-period_start")[:36],
            ),
        )


class InvoiceDetailView(ConsoleView):
    def get(self, request, id):
        invoice = self.found(invoice_list(tenant=self.tenant).filter(pk=id).first())
        return render(request, "console/invoice.html", self.context(invoice=invoice))


class UpcomingPdfView(ConsoleView):
    def get(self, request):
        draft = invoice_upcoming(tenant=self.tenant)
        content = invoice_pdf(
            title="Upcoming invoice (preview)",
            number="upcoming",
            tenant_name=self.tenant.name,
            tenant_id=self.tenant.pk,
            period_start=draft.period_start,
            period_end=draft.period_end,
            currency=draft.currency,
            lines=[
                PdfLine(ln.description, ln.quantity, ln.unit_amount, ln.amount)
                for ln in draft.lines
            ],
            total=draft.total,
            status="draft",
        )
        return _pdf_response(content, f"invoice-upcoming-{draft.period_start:%Y-%m}.pdf")


class InvoicePdfView(ConsoleView):
    def get(self, request, id):
        invoice = self.found(invoice_list(tenant=self.tenant).filter(pk=id).first())
        content = invoice_pdf(
            title="Invoice",
            number=invoice.pk,
            tenant_name=self.tenant.name,
            tenant_id=self.tenant.pk,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            currency=invoice.currency,
            lines=[
                PdfLine(ln.description, ln.quantity, ln.unit_amount, ln.amount)
                for ln in invoice.lines.all()
            ],
            total=invoice.total,
            status=invoice.status,
        )
        return _pdf_response(content, f"invoice-{invoice.pk}.pdf")
