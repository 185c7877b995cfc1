"""Reads on tenants and API keys; each takes the tenant it reads for."""

from django.db.models import QuerySet

from tenants.models import ApiKey, Tenant


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
