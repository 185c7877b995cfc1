"""Reads on tenants and API keys; each takes the tenant it reads for."""

from django.db.models import QuerySet

from tenants.models import ApiKey, Membership, Tenant

# What console roles may do (tenants.roles), for the console.
from tenants.roles import role_allows as role_allows
from tenants.roles import role_scopes as role_scopes

MEMBER_ROLES: tuple[str, ...] = tuple(Membership.Role.values)  # owner, admin, developer, viewer


def tenant_get(*, tenant_id: str) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id).first()


def tenant_list() -> QuerySet[Tenant]:
    """Every tenant, oldest first (operators' reports, billing's periodic work)."""
    return Tenant.objects.order_by("created_at", "pk")


def tenants_by_id(tenant_ids: set[str]) -> QuerySet[Tenant]:
    return Tenant.objects.filter(pk__in=tenant_ids)


def tenant_ids_existing(tenant_ids: set[str]) -> set[str]:
    """Which of these tenant ids still exist."""
    return set(Tenant.objects.filter(pk__in=tenant_ids).values_list("pk", flat=True))


def api_key_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(tenant=tenant)


def membership_for_user(*, user, membership_id: str | None = None) -> Membership | None:
    """The membership a signed-in person works in, with its tenant: the one asked for, else their
    oldest. None if they belong to no tenant (or not to that one)."""
    memberships = Membership.objects.select_related("tenant").filter(user=user)
    if membership_id:
        memberships = memberships.filter(pk=membership_id)
    return memberships.order_by("created_at", "pk").first()


def memberships_of_user(*, user) -> QuerySet[Membership]:
    """Every tenant a signed-in person belongs to, oldest first."""
    return (
        Membership.objects.select_related("tenant").filter(user=user).order_by("created_at", "pk")
    )


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.select_related("user").filter(tenant=tenant).order_by("created_at")


def membership_get(*, tenant: Tenant, membership_id: str) -> Membership | None:
    return membership_list(tenant=tenant).filter(pk=membership_id).first()
