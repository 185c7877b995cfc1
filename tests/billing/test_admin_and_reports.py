from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from freezegun import freeze_time

from billing.models import Invoice
from billing.services import usage_process
from billing.tasks import close_invoices
from tests.billing.test_invoices import february_usage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_sink(settings):
    settings.MAAS_USAGE_SINK = "database"


@pytest.fixture
def staff_client(client):
    client.force_login(
        User.objects.create_user("op", password="pw", is_staff=True, is_superuser=True)
    )
    return client


@pytest.fixture
def closed_february(billed_tenant):
    february_usage(billed_tenant)
    with freeze_time("2026-03-01 02:00:00"):
        usage_process()
        close_invoices()
    return Invoice.objects.get(tenant=billed_tenant, period_start__month=2)


def test_usage_report_shows_a_chart_and_exports_csv(staff_client, closed_february):
    tenant = closed_february.tenant
    page = staff_client.get(f"/admin/billing/usagedaily/report/?tenant={tenant.pk}&month=2026-02")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "predictions per day" in html
    assert "2026-02-14" in html
    csv_page = staff_client.get(
        f"/admin/billing/usagedaily/report/?tenant={tenant.pk}&month=2026-02&format=csv"
    )
    lines = csv_page.content.decode().splitlines()
    assert lines[0] == "day,meter,quantity" and "2026-02-27,predictions,8000" in lines


def test_invoice_pages_and_csv_export(staff_client, closed_february):
    page = staff_client.get(
        reverse("admin:billing_invoice_change", args=[quote(closed_february.pk)])
    )
    assert page.status_code == 200 and "Late usage" not in page.content.decode()
    assert "Rows predicted" in page.content.decode()
    export = staff_client.post(
        "/admin/billing/invoice/",
        {"action": "export_csv", "_selected_action": [closed_february.pk]},
    )
    rows = export.content.decode().splitlines()
    assert rows[0].startswith("invoice,tenant,period") and len(rows) == 6
    assert staff_client.get("/admin/billing/pricebook/").status_code == 200
    assert staff_client.get("/admin/billing/spendalert/").status_code == 200
    assert staff_client.get("/admin/billing/usagedaily/").status_code == 200


def test_billing_report_prints_revenue_by_tenant_and_meter(closed_february):
    out = StringIO()
    call_command("billing_report", "--month", "2026-02", stdout=out)
    text = out.getvalue()
    assert "Revenue for 2026-02" in text and closed_february.tenant_id in text
    assert "predictions" in text and "12.08" in text  # 0.05 + 12.00 + 0.03
    assert text.strip().splitlines()[-1].split()[-1] == "14.73"


def test_price_book_validation_in_the_admin(staff_client, simple_book):
    from billing.models import MeterPrice

    price = MeterPrice(price_book=simple_book, meter="compute.gpu_seconds", tiers=[{"up_to": "x"}])
    with pytest.raises(Exception, match="decimal"):
        price.full_clean()
    price = MeterPrice(
        price_book=simple_book, meter="compute.gpu_seconds", price_tiers={"light": {}}
    )
    with pytest.raises(Exception, match="predictions"):
        price.full_clean()


def test_drain_usage_command_once(billed_tenant):
    from tests.billing.conftest import record

    record(billed_tenant, "predictions", 3, at=datetime(2026, 2, 2, tzinfo=UTC), price_tier="light")
    out = StringIO()
    call_command("drain_usage", "--once", stdout=out)
    assert "rolled up 1 events" in out.getvalue()
