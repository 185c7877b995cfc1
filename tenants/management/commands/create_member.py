import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from maas.errors import Conflict
from tenants import selectors, services
from tenants.models import Membership


class Command(BaseCommand):
    help = (
        "Add a person to a tenant's console; prints {member_id, email, role} as JSON. Without "
        "--password-stdin they set a password through the console's reset link."
    )

    def add_arguments(self, parser):
        parser.add_argument("tenant_id")
        parser.add_argument("email")
        parser.add_argument(
            "--role", default=Membership.Role.DEVELOPER, choices=Membership.Role.values
        )
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )

    def handle(self, *args, tenant_id, email, role, password_stdin, **options):
        tenant = selectors.tenant_get(tenant_id=tenant_id)
        if tenant is None:
            raise CommandError(f"no tenant {tenant_id!r}")
        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        try:
            member = services.member_create(
                tenant=tenant, email=email, role=role, password=password
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except Conflict as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            json.dumps({"member_id": member.pk, "email": member.user.email, "role": member.role})
        )
