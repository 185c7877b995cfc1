"""What maas.erasure removes of a tenant here: its API keys and members (and the sign-ins of
members who belong to no other tenant, staff excepted). The tenant row itself stays, suspended,
as the owner of its invoices and usage, which are accounting records."""

from django.contrib.auth import get_user_model

from maas.erasure import Erased
from tenants.models import ApiKey, Membership, Tenant


def tenant_access_erase(tenant_id: str) -> Erased:
    members = Membership.objects.filter(tenant_id=tenant_id)
    user_ids = list(members.values_list("user_id", flat=True))
    counted = members.count()
    members.delete()
    users = (
        get_user_model()
        .objects.filter(pk__in=user_ids, is_staff=False, memberships__isnull=True)
        .delete()[0]
    )
    keys = ApiKey.objects.filter(tenant_id=tenant_id).delete()[0]
    Tenant.objects.filter(pk=tenant_id).update(status=Tenant.Status.SUSPENDED)
    return Erased(counts={"api_keys": keys, "members": counted, "users": users})
