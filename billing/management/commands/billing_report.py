from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.meters import METER_ORDER
from billing.reports import revenue_by_tenant_and_meter
from billing.rollups import month_start
from tenants.selectors import tenants_by_id


class Command(BaseCommand):
    help = "Print a month's invoiced revenue by tenant and meter (finalized invoices)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: last month)")

    def handle(self, *args, month, **options):
        if month:
            try:
                period = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
            except ValueError:
                raise CommandError("--month must be YYYY-MM") from None
        else:
            period = month_start(month_start(timezone.now()) - timedelta(days=1))
        revenue = revenue_by_tenant_and_meter(period)
        names = dict(tenants_by_id({t for t, _ in revenue}).values_list("id", "name"))
        self.stdout.write(f"Revenue for {period:%Y-%m} (finalized invoices)")
        self.stdout.write(f"{'tenant':<40} {'meter':<22} {'amount':>14}")
        total = 0
        for (tenant_id, meter), amount in sorted(
            revenue.items(), key=lambda kv: (names.get(kv[0][0], ""), METER_ORDER.index(kv[0][1]))
        ):
            label = f"{names.get(tenant_id, '?')} ({tenant_id})"
            self.stdout.write(f"{label:<40} {meter:<22} {amount:>14}")
            total += amount
        self.stdout.write(f"{'total':<63} {total:>14.2f}")
