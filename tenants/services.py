"""Writes on tenants and API keys."""

from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from maas.errors import Conflict, Forbidden
from maas.generation import generation_bump
from maas.scopes import ALL_SCOPES
from tenants.keys import generate_key
from tenants.models import ApiKey, Membership, Tenant
from tenants.plans import PLAN_DEFAULT_SPEND_LIMIT, Plan

UNSET = object()
User = get_user_model()


@transaction.atomic
def tenant_create(
    *,
    name: str,
    plan: str = Plan.FREE,
    email: str = "",
    requests_per_minute: int | None = None,
) -> Tenant:
    if plan not in Plan.values:
        raise ValueError(f"unknown plan {plan!r}; choose one of {', '.join(Plan.values)}")
    return Tenant.objects.create(
        name=name,
        plan=plan,
        email=email,
        requests_per_minute=requests_per_minute,
        spend_limit=PLAN_DEFAULT_SPEND_LIMIT[plan],
    )


@transaction.atomic
def tenant_update(*, tenant: Tenant, spend_limit: Decimal | object | None = UNSET) -> Tenant:
    fields = []
    if spend_limit is not UNSET:
        tenant.spend_limit = spend_limit
        fields.append("spend_limit")
    if fields:
        tenant.save(update_fields=[*fields, "updated_at"])
    return tenant


def api_key_assign_secret(key: ApiKey) -> str:
    """Gives an unsaved key its prefix and hash; returns the raw key, the only time it exists."""
    raw, prefix, secret_hash = generate_key()
    key.prefix = prefix
    key.secret_hash = secret_hash
    return raw


@transaction.atomic
def api_key_create(
    *,
    tenant: Tenant,
    scopes: list[str],
    name: str = "",
    expires_at: datetime | None = None,
    granted_by: frozenset[str] | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret (shown once). `granted_by`: the scopes of the key that asks for
    it, when a key asks (an operator's command does not): a key makes keys with at most its own
    scopes, so a key that leaked cannot mint a stronger one."""
    unknown = set(scopes) - set(ALL_SCOPES)
    if not scopes or unknown:
        raise ValueError(f"scopes must be a non-empty subset of {', '.join(ALL_SCOPES)}")
    if granted_by is not None and not set(scopes) <= granted_by:
        lacking = ", ".join(s for s in ALL_SCOPES if s in set(scopes) - granted_by)
        held = ", ".join(s for s in ALL_SCOPES if s in granted_by)
        raise Forbidden(
            f"This key cannot grant {lacking}: a key makes keys with only the scopes it has "
            f"({held}). Ask with a key that has them.",
            param="scopes",
        )
    key = ApiKey(
        tenant=tenant,
        name=name,
        scopes=[s for s in ALL_SCOPES if s in scopes],
        expires_at=expires_at,
    )
    raw = api_key_assign_secret(key)
    key.save()
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revokes for good: there is no un-revoke. Revoking twice keeps the first time."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    generation_bump()  # an update() sends no signal; processes that cached the key drop it
    key.refresh_from_db(fields=["revoked_at"])
    return key


@transaction.atomic
def member_create(
    *,
    tenant: Tenant,
    email: str,
    role: str = Membership.Role.DEVELOPER,
    password: str | None = None,
) -> Membership:
    """Adds the person with this email to the tenant (one user per email across tenants). A
    password is set only when given: an invited person sets theirs through the reset link."""
    if role not in Membership.Role.values:
        raise ValueError(
            f"unknown role {role!r}; choose one of {', '.join(Membership.Role.values)}"
        )
    email = User.objects.normalize_email(email.strip()).lower()
    validate_email(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(username=email, email=email)
        user.set_unusable_password()
    if password is not None:
        validate_password(password, user)
        user.set_password(password)
    user.save()
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise Conflict(f"{email} is already a member of this tenant.", param="email")
    return Membership.objects.create(tenant=tenant, user=user, role=role)


@transaction.atomic
def member_set_role(*, membership: Membership, role: str) -> Membership:
    """Changes a member's role; a tenant always keeps at least one owner."""
    if role not in Membership.Role.values:
        raise ValueError(
            f"unknown role {role!r}; choose one of {', '.join(Membership.Role.values)}"
        )
    owners = Membership.objects.filter(tenant_id=membership.tenant_id, role=Membership.Role.OWNER)
    if membership.role == Membership.Role.OWNER and role != membership.role and owners.count() == 1:
        raise Conflict("A tenant keeps at least one owner: make someone else owner first.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    if membership.role == Membership.Role.OWNER:
        owners = Membership.objects.filter(
            tenant_id=membership.tenant_id, role=Membership.Role.OWNER
        )
        if owners.count() == 1:
            raise Conflict("A tenant keeps at least one owner: make someone else owner first.")
    membership.delete()
