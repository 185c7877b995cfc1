import json

from django.core.management.base import BaseCommand
from django.db import transaction

from maas.scopes import ALL_SCOPES
from tenants import services
from tenants.plans import Plan


class Command(BaseCommand):
    help = "Create a tenant and an API key with every scope; prints {tenant_id, api_key} as JSON."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--plan", choices=Plan.values, default=Plan.FREE)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--requests-per-minute",
            type=int,
            default=None,
            help="override the plan's rate limit for this tenant",
        )

    def handle(self, *args, name, plan, email, requests_per_minute, **options):
        with transaction.atomic():
            tenant = services.tenant_create(
                name=name, plan=plan, email=email, requests_per_minute=requests_per_minute
            )
            _, raw = services.api_key_create(tenant=tenant, scopes=list(ALL_SCOPES), name="default")
        self.stdout.write(json.dumps({"tenant_id": tenant.pk, "api_key": raw}))
