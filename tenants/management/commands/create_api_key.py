import json

from django.core.management.base import BaseCommand, CommandError

from maas.scopes import ALL_SCOPES
from tenants import selectors, services


class Command(BaseCommand):
    help = "Create an API key for a tenant; prints {id, api_key} as JSON."

    def add_arguments(self, parser):
        parser.add_argument("tenant_id")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--scopes",
            default=",".join(ALL_SCOPES),
            help=f"comma-separated, from: {', '.join(ALL_SCOPES)} (default: all)",
        )

    def handle(self, *args, tenant_id, name, scopes, **options):
        tenant = selectors.tenant_get(tenant_id=tenant_id)
        if tenant is None:
            raise CommandError(f"no tenant {tenant_id!r}")
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(ALL_SCOPES))
        if not wanted or unknown:
            raise CommandError(
                f"unknown scopes {unknown}; choose from {', '.join(ALL_SCOPES)}"
                if unknown
                else "give at least one scope"
            )
        key, raw = services.api_key_create(tenant=tenant, scopes=wanted, name=name)
        self.stdout.write(json.dumps({"id": key.pk, "api_key": raw}))
