"""Used by `make run`: makes sure a demo tenant and a working key exist, and says how to use them.

The demo key is kept in $MAAS_DATA_DIR/demo-api-key (mode 600) so that a re-run prints the same
key, and the console's demo member (an owner) signs in with the password kept in
$MAAS_DATA_DIR/demo-console-password; both files are a convenience of the local embedded setup,
never of a production deployment.
"""

import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from maas.scopes import ALL_SCOPES
from tenants import selectors, services
from tenants.authentication import authenticate_api_key
from tenants.models import Tenant
from tenants.plans import Plan

DEMO_NAME = "Demo Company"
DEMO_EMAIL = "demo@example.com"


class Command(BaseCommand):
    help = "Ensure the demo tenant and its API key exist (make run); print curl and CLI lines."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, port, **options):
        path = settings.DATA_DIR / "demo-api-key"
        raw = path.read_text().strip() if path.exists() else ""
        if not raw or not self._still_valid(raw):
            with transaction.atomic():
                tenant = Tenant.objects.filter(name=DEMO_NAME).order_by("created_at").first()
                if tenant is None:
                    tenant = services.tenant_create(name=DEMO_NAME, plan=Plan.STANDARD)
                _, raw = services.api_key_create(
                    tenant=tenant, scopes=list(ALL_SCOPES), name="demo"
                )
            path.write_text(raw + "\n")
            path.chmod(0o600)
        tenant = authenticate_api_key(raw).tenant
        tenant_id = tenant.pk
        password = self._demo_member(tenant)
        base = f"http://localhost:{port}"
        # The CLI's default server is port 8000; any other port has to be named.
        base_url = "" if str(port) == "8000" else f" MAAS_BASE_URL={base}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"maas is starting on {base}  (API docs: {base}/docs/)",
                    f"Demo tenant: {tenant_id}",
                    f"API key:     {raw}",
                    "Try it:",
                    f'  curl -s -H "Authorization: Bearer {raw}" {base}/v1/tenant',
                    "Or with the CLI (the client package in ./client; `make run` put it in .venv):",
                    "  pip install ./client",
                    f"  MAAS_API_KEY={raw}{base_url} maas datasets list",
                    f"Or in the console: {base}/console/  (sign in as {DEMO_EMAIL}, "
                    f"password {password})",
                    "",
                ]
            )
        )

    @staticmethod
    def _demo_member(tenant) -> str:
        """The demo owner's password, the member made (or its password reset) if needed."""
        path = settings.DATA_DIR / "demo-console-password"
        password = path.read_text().strip() if path.exists() else ""
        member = selectors.membership_list(tenant=tenant).filter(user__email=DEMO_EMAIL).first()
        if member is None or not password or not member.user.check_password(password):
            password = secrets.token_urlsafe(12)
            if member is None:
                services.member_create(
                    tenant=tenant, email=DEMO_EMAIL, role="owner", password=password
                )
            else:
                member.user.set_password(password)
                member.user.save(update_fields=["password"])
            path.write_text(password + "\n")
            path.chmod(0o600)
        return password

    @staticmethod
    def _still_valid(raw: str) -> bool:
        try:
            authenticate_api_key(raw)
        except Exception:
            return False
        return True
