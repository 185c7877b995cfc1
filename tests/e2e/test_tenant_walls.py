"""Tenant B, holding A's ids, gets exactly what an unknown id gets: 404, on every route.

Routes are discovered from the URL configuration, so a new route with an id cannot be added
without this test covering it: add a maker for it to OWNED below.
"""

from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import (
    ApiKeyFactory,
    DatasetFactory,
    EventFactory,
    InferenceJobFactory,
    InvoiceFactory,
    ModelFactory,
    ModelVersionFactory,
    TenantFactory,
    TrainingJobFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db(transaction=True)

# URL name -> makes an object of the given tenant and returns the URL kwargs that reach it.
OWNED: dict[str, Callable] = {
    "api-key-detail": lambda tenant: {"id": ApiKeyFactory(tenant=tenant).pk},
    "invoice-detail": lambda tenant: {"id": InvoiceFactory(tenant=tenant).pk},
    "dataset-detail": lambda tenant: {"id": DatasetFactory(tenant=tenant).pk},
    "model-detail": lambda tenant: {"id": ModelFactory(tenant=tenant).pk},
    "model-predict": lambda tenant: {"id": ModelVersionFactory(model__tenant=tenant).model_id},
    "model-alias": lambda tenant: {
        "id": ModelVersionFactory(model__tenant=tenant).model_id,
        "alias": "production",
    },
    "model-explain": lambda tenant: {"id": ModelVersionFactory(model__tenant=tenant).model_id},
    "model-versions": lambda tenant: {"id": ModelVersionFactory(model__tenant=tenant).model_id},
    "model-version-detail": lambda tenant: {
        "id": ModelVersionFactory(model__tenant=tenant).model_id,
        "n": "1",
    },
    "model-version-onnx": lambda tenant: {
        "id": ModelVersionFactory(model__tenant=tenant).model_id,
        "n": "1",
    },
    "model-version-evaluation": lambda tenant: {
        "id": ModelVersionFactory(model__tenant=tenant).model_id,
        "n": "1",
    },
    "training-job-detail": lambda tenant: {"id": TrainingJobFactory(tenant=tenant).pk},
    "inference-job-detail": lambda tenant: {"id": InferenceJobFactory(tenant=tenant).pk},
    "inference-job-cancel": lambda tenant: {"id": InferenceJobFactory(tenant=tenant).pk},
    "inference-job-results": lambda tenant: {"id": InferenceJobFactory(tenant=tenant).pk},
    "inference-job-errors": lambda tenant: {"id": InferenceJobFactory(tenant=tenant).pk},
    "event-detail": lambda tenant: {"id": EventFactory(tenant=tenant).pk},
    "webhook-endpoint-detail": lambda tenant: {"id": WebhookEndpointFactory(tenant=tenant).pk},
    "webhook-endpoint-rotate": lambda tenant: {"id": WebhookEndpointFactory(tenant=tenant).pk},
    "webhook-deliveries": lambda tenant: {"id": WebhookEndpointFactory(tenant=tenant).pk},
    "webhook-delivery-redeliver": lambda tenant: {
        "id": WebhookDeliveryFactory(endpoint__tenant=tenant).pk
    },
    "training-job-cancel": lambda tenant: {"id": TrainingJobFactory(tenant=tenant).pk},
    "training-job-events": lambda tenant: {"id": TrainingJobFactory(tenant=tenant).pk},
}
# List routes -> the ids of `tenant`'s objects a list would show.
LISTS: dict[str, Callable] = {
    "api-key-list": lambda tenant: {ApiKeyFactory(tenant=tenant).pk},
    "invoice-list": lambda tenant: {InvoiceFactory(tenant=tenant).pk},
    "dataset-list": lambda tenant: {DatasetFactory(tenant=tenant).pk},
    "model-list": lambda tenant: {ModelFactory(tenant=tenant).pk},
    "training-job-list": lambda tenant: {TrainingJobFactory(tenant=tenant).pk},
    "inference-job-list": lambda tenant: {InferenceJobFactory(tenant=tenant).pk},
    "event-list": lambda tenant: {EventFactory(tenant=tenant).pk},
    "webhook-endpoint-list": lambda tenant: {WebhookEndpointFactory(tenant=tenant).pk},
}


def _routes(patterns=None, prefix=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name and prefix.startswith("v1/"):
            yield p.name, prefix + str(p.pattern), p.callback


ID_ROUTES = [(name, route, cb) for name, route, cb in _routes() if "<" in route]


def _methods(callback) -> list[str]:
    if hasattr(callback, "maas_methods"):  # lean views (maas/lean_views.py)
        return list(callback.maas_methods)
    view = getattr(callback, "view_class", None)
    return [m.upper() for m in ("get", "post", "patch", "put", "delete") if hasattr(view, m)]


def test_every_route_with_an_id_is_covered():
    missing = sorted({name for name, _, _ in ID_ROUTES} - set(OWNED))
    assert not missing, f"add a maker for these routes to OWNED: {missing}"


@pytest.mark.parametrize(("name", "route", "callback"), ID_ROUTES, ids=[r[0] for r in ID_ROUTES])
def test_another_tenants_id_is_404(http, name, route, callback):
    owner, intruder = TenantFactory(), TenantFactory()
    kwargs = OWNED[name](owner)
    path = "/" + route
    for key, value in kwargs.items():
        path = path.replace(f"<str:{key}>", value).replace(f"<{key}>", value)
    b = http(ApiKeyFactory(tenant=intruder).raw)
    for method in _methods(callback):
        response = b.request(method, path, json={})
        assert_error(response, 404, "not_found_error")
        unknown = b.request(
            method, path.replace(next(iter(kwargs.values())), "xx_unknown"), json={}
        )
        assert unknown.status_code == 404
        assert response.json()["error"]["code"] == unknown.json()["error"]["code"]


@pytest.mark.parametrize("name", sorted(LISTS))
def test_lists_never_show_another_tenants_objects(http, name):
    owner, intruder = TenantFactory(), TenantFactory()
    theirs = LISTS[name](owner)
    route = next(r for n, r, _ in _routes() if n == name)
    listed = http(ApiKeyFactory(tenant=intruder).raw).get("/" + route).json()["data"]
    assert not theirs & {item["id"] for item in listed}


@pytest.mark.usefixtures("price_books")
def test_usage_and_invoices_without_ids_show_only_the_callers_own(http, settings):
    from billing.services import usage_process, usage_record

    settings.MAAS_USAGE_SINK = "database"
    owner, intruder = TenantFactory(), TenantFactory()
    usage_record(
        tenant=owner,
        meter="predictions",
        quantity=50_000,
        idempotency_key="a",
        dimensions={"price_tier": "heavy", "model": "mdl_secret"},
    )
    usage_process()
    b = http(ApiKeyFactory(tenant=intruder).raw)
    assert b.get("/v1/usage", params={"group_by": "model"}).json()["data"] == []
    assert b.get("/v1/usage.csv").text.strip().splitlines()[1:] == []
    upcoming = b.get("/v1/invoices/upcoming").json()
    assert upcoming["lines"] == [] and upcoming["total"] == "0.00"
    assert "mdl_secret" not in b.get("/v1/usage.csv", params={"group_by": "model"}).text
