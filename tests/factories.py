from datetime import UTC, datetime

import factory
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
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


class DatasetFactory(DjangoModelFactory):
    """A dataset row with a small CSV stored for it."""

    class Meta:
        model = "catalog.Dataset"

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"dataset {n}")
    format = "csv"
    size_bytes = 12
    sha256 = "0" * 64
    n_rows = 2
    columns = factory.LazyFunction(lambda: [{"name": "a", "dtype": "number"}])
    file = factory.LazyAttribute(
        lambda o: default_storage.save(f"datasets/{o.tenant.pk}/f.csv", ContentFile(b"a\n1\n2\n"))
    )


class ModelFactory(DjangoModelFactory):
    class Meta:
        model = "catalog.Model"

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"model-{n}")
    task = "classification"
    latest_version = 1


class ModelVersionFactory(DjangoModelFactory):
    class Meta:
        model = "catalog.ModelVersion"

    model = factory.SubFactory(ModelFactory)
    version = 1
    algorithm = "logistic_regression"
    framework = "sklearn"
    price_tier = "light"
    signature = factory.LazyFunction(lambda: {"inputs": [], "target": "y"})
    native_path = "none"
    native_sha256 = "0" * 64


class TrainingJobFactory(DjangoModelFactory):
    class Meta:
        model = "training.TrainingJob"

    tenant = factory.SubFactory(TenantFactory)
    dataset_ref = "ds_gone"
    algorithm = "logistic_regression"
    target = "y"
    model_name = "m"
    queue = "training"


class InferenceJobFactory(DjangoModelFactory):
    class Meta:
        model = "inference.InferenceJob"

    tenant = factory.SubFactory(TenantFactory)
    model_ref = "mdl_gone"
    version = 1
    dataset_ref = "ds_gone"
    queue = "inference"


class EventFactory(DjangoModelFactory):
    class Meta:
        model = "webhooks.Event"

    tenant = factory.SubFactory(TenantFactory)
    type = "training_job.succeeded"
    data = factory.LazyFunction(lambda: {"object": {"id": "trj_x"}})


class WebhookEndpointFactory(DjangoModelFactory):
    class Meta:
        model = "webhooks.WebhookEndpoint"

    tenant = factory.SubFactory(TenantFactory)
    url = "https://example.com/hook"
    events = factory.LazyFunction(lambda: ["*"])
    secret = "whsec_c2VjcmV0"


class WebhookDeliveryFactory(DjangoModelFactory):
    class Meta:
        model = "webhooks.WebhookDelivery"

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event = factory.SubFactory(EventFactory, tenant=factory.SelfAttribute("..endpoint.tenant"))


class MembershipFactory(DjangoModelFactory):
    """A console member; the password is `member-password` (tests sign in with it)."""

    class Meta:
        model = "tenants.Membership"

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(
        "tests.factories.UserFactory",
    )
    role = "owner"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "auth.User"

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.django.Password("member-password")
