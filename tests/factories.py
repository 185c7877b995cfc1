from datetime import UTC, datetime

import factory
from factory.django import DjangoModelFactory

from maas.scopes import ALL_SCOPES
from tenants import services
from tenants.models import ApiKey, Tenant
from tenants.plans import Plan


class TenantFactory(DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    plan = Plan.STANDARD


class ApiKeyFactory(DjangoModelFactory):
    """Builds a key the way the service does; the raw key is on `.raw`."""

    class Meta:
        model = ApiKey

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"key {n}")
    scopes = factory.LazyFunction(lambda: list(ALL_SCOPES))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        key = model_class(*args, **kwargs)
        key.raw = services.api_key_assign_secret(key)
        key.save()
        return key


class InvoiceFactory(DjangoModelFactory):
    """A finalized invoice with no lines, for a period in the past."""

    class Meta:
        model = "billing.Invoice"

    tenant = factory.SubFactory(TenantFactory)
    period_start = factory.LazyFunction(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    period_end = factory.LazyFunction(lambda: datetime(2026, 2, 1, tzinfo=UTC))
    status = "open"
    finalized_at = factory.LazyFunction(lambda: datetime(2026, 2, 1, 1, tzinfo=UTC))
