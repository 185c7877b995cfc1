"""Invoices as PDF (fpdf2: pure Python, no system libraries), from the same lines and total
the API answers."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fpdf import FPDF


@dataclass(frozen=True)
class PdfLine:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1; anything else becomes '?' instead of failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


def invoice_pdf(
    *,
    title: str,
    number: str,
    tenant_name: str,
    tenant_id: str,
    period_start: datetime,
    period_end: datetime,
    currency: str,
    lines: list[PdfLine],
    total: Decimal,
    status: str,
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"{title} {number}"))
    pdf.set_creator("maas")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"Invoice: {number} ({status})",
        f"Customer: {tenant_name} ({tenant_id})",
        f"Period: {period_start:%Y-%m-%d} to {period_end:%Y-%m-%d} (UTC, end exclusive)",
        f"Currency: {currency.upper()}",
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (95, 30, 30, 30)
    pdf.set_font("Helvetica", "B", 10)
    for width, head, align in zip(
        widths, ("Description", "Quantity", "Unit price", "Amount"), "LRRR", strict=True
    ):
        pdf.cell(width, 7, head, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for line in lines:
        cells = (
            line.description,
            f"{line.quantity.normalize():f}",
            f"{line.unit_amount:f}",
            f"{line.amount:.2f}",
        )
        for width, value, align in zip(widths, cells, "LRRR", strict=True):
            pdf.cell(width, 6, _latin1(value), align=align)
        pdf.ln()
    if not lines:
        pdf.cell(0, 6, "No charges in this period.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(sum(widths[:3]), 8, "Total", border="T")
    pdf.cell(widths[3], 8, f"{total:.2f} {currency.upper()}", border="T", align="R")
    pdf.ln()
    return bytes(pdf.output())
