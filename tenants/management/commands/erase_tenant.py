import json

from django.core.management.base import BaseCommand, CommandError

from maas.erasure import TenantBusy, tenant_erase
from tenants import selectors


class Command(BaseCommand):
    help = (
        "Erase a tenant's data: datasets, models, artifacts (in whichever storage), jobs, "
        "results, events, webhooks, keys and members. Invoices and usage stay as accounting "
        "records; the tenant stays, suspended. Prints what it removed as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("tenant_id")
        parser.add_argument(
            "--confirm", action="store_true", help="required: this cannot be undone"
        )

    def handle(self, *args, tenant_id, confirm, **options):
        tenant = selectors.tenant_get(tenant_id=tenant_id)
        if tenant is None:
            raise CommandError(f"no tenant {tenant_id!r}")
        if not confirm:
            raise CommandError(
                f"This erases every dataset, model and job of {tenant.name} ({tenant_id}) and "
                "cannot be undone: run it again with --confirm."
            )
        try:
            removed = tenant_erase(tenant_id)
        except TenantBusy as busy:
            raise CommandError(str(busy)) from None
        self.stdout.write(json.dumps({"tenant": tenant_id, "removed": removed}, sort_keys=True))
