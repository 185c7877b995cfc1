from decimal import Decimal

import pytest
from django.utils import timezone

from tenants.authentication import _key_with_tenant
from tenants.models import ApiKey
from tests.factories import ApiKeyFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_hand_written_lookup_loads_what_the_orm_loads():
    tenant = TenantFactory(spend_limit=Decimal("12.50"), requests_per_minute=77)
    key = ApiKeyFactory(tenant=tenant, scopes=["read", "predict"], expires_at=timezone.now())
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    fast = _key_with_tenant(key.prefix)
    orm = ApiKey.objects.select_related("tenant").get(pk=key.pk)
    for field in ApiKey._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    for field in type(tenant)._meta.concrete_fields:
        assert getattr(fast.tenant, field.attname) == getattr(orm.tenant, field.attname), field.name
    assert isinstance(fast.tenant.spend_limit, Decimal) and fast.scopes == ["read", "predict"]
    assert fast._state.adding is False
    assert _key_with_tenant("mk_nothere00000") is None
