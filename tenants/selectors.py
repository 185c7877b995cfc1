"""Reads on tenants and API keys; each takes the tenant it reads for."""

from django.db.models import QuerySet

from tenants.models import ApiKey, Tenant


def tenant_get(*, tenant_id: str) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id).first()


def api_key_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(tenant=tenant)
