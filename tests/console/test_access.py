"""The console's walls and roles: another tenant's ids are 404 on every console URL (routes
discovered from the URLconf, as the API's wall test does), a viewer sees no create buttons and
gets 403 posting, signing in is rate-limited, and signed-out visitors are sent to sign in."""

import random
from collections.abc import Callable

import pytest
from django.urls import get_resolver, reverse

from tests.factories import (
    ApiKeyFactory,
    DatasetFactory,
    InferenceJobFactory,
    InvoiceFactory,
    MembershipFactory,
    ModelVersionFactory,
    TrainingJobFactory,
)

# URL name -> makes an object of the tenant and returns the kwargs that reach it.
OWNED: dict[str, Callable] = {
    "key_revoke": lambda t: {"id": ApiKeyFactory(tenant=t).pk},
    "dataset": lambda t: {"id": DatasetFactory(tenant=t).pk},
    "training_job": lambda t: {"id": TrainingJobFactory(tenant=t).pk},
    "model": lambda t: {"id": ModelVersionFactory(model__tenant=t).model_id},
    "model_alias": lambda t: {"id": ModelVersionFactory(model__tenant=t).model_id},
    "model_predict": lambda t: {"id": ModelVersionFactory(model__tenant=t).model_id},
    "model_explain": lambda t: {"id": ModelVersionFactory(model__tenant=t).model_id},
    "model_onnx": lambda t: {"id": ModelVersionFactory(model__tenant=t).model_id, "n": 1},
    "batch_job": lambda t: {"id": InferenceJobFactory(tenant=t).pk},
    "batch_results": lambda t: {"id": InferenceJobFactory(tenant=t).pk},
    "batch_errors": lambda t: {"id": InferenceJobFactory(tenant=t).pk},
    "invoice": lambda t: {"id": InvoiceFactory(tenant=t).pk},
    "invoice_pdf": lambda t: {"id": InvoiceFactory(tenant=t).pk},
}
# Console routes without an id: nothing of another tenant to reach.
UNOWNED = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "overview",
    "switch",  # takes a membership id: only the person's own (tested below)
    "keys",
    "datasets",
    "dataset_upload",
    "training",
    "training_columns",
    "models",
    "batch",
    "usage",
    "usage_csv",
    "invoices",
    "invoice_upcoming_pdf",
    "settings",
}


def console_routes() -> set[str]:
    resolver = get_resolver()
    console = next(p for p in resolver.url_patterns if getattr(p, "namespace", None) == "console")
    return {p.name for p in console.url_patterns}


def test_every_console_route_is_covered():
    assert console_routes() == set(OWNED) | UNOWNED


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(OWNED))
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_tenants_ids_are_404(name, method, tenant, other_tenant, console_for):
    kwargs = OWNED[name](tenant)
    intruder = console_for(other_tenant, role="owner")
    # predict and explain take the API's JSON body (a form is 415 before any lookup)
    body = (
        {"data": '{"inputs": [{}]}', "content_type": "application/json"} if method == "post" else {}
    )
    response = getattr(intruder, method)(reverse(f"console:{name}", kwargs=kwargs), **body)
    # 404, or 405 where the route takes no such method: never the object
    assert response.status_code in (404, 405), (name, method, response.status_code)
    unknown = {k: (v if k == "n" else "x_unknown") for k, v in kwargs.items()}
    again = getattr(intruder, method)(reverse(f"console:{name}", kwargs=unknown), **body)
    assert again.status_code == response.status_code


@pytest.mark.django_db
def test_lists_show_only_the_members_tenant(tenant, other_tenant, console_for):
    mine = DatasetFactory(tenant=tenant, name="mine.csv")
    theirs = DatasetFactory(tenant=other_tenant, name="theirs.csv")
    page = console_for(tenant).get(reverse("console:datasets")).content.decode()
    assert mine.pk in page and theirs.pk not in page


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("console:keys"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


@pytest.mark.django_db
def test_a_person_in_no_tenant_gets_403(client, django_user_model):
    user = django_user_model.objects.create_user("lost@example.com", "lost@example.com", "x")
    client.force_login(user)
    assert client.get(reverse("console:overview")).status_code == 403


CREATE_BUTTONS = {
    "keys": "Create key",
    "datasets": "data-upload",
    "training": 'id="train-form"',
    "batch": "Predict a whole dataset",
}


@pytest.mark.django_db
def test_a_viewer_sees_no_create_buttons_and_gets_403_posting(tenant, console_for):
    version = ModelVersionFactory(model__tenant=tenant)
    viewer = console_for(tenant, role="viewer")
    owner = console_for(tenant, role="owner")
    for name, button in CREATE_BUTTONS.items():
        assert button in owner.get(reverse(f"console:{name}")).content.decode(), name
        page = viewer.get(reverse(f"console:{name}"))
        assert page.status_code == 200 and button not in page.content.decode(), name
    model_page = viewer.get(reverse("console:model", kwargs={"id": version.model_id}))
    assert "Promote" not in model_page.content.decode()
    assert "Playground" not in model_page.content.decode()
    posts = [
        reverse("console:keys"),
        reverse("console:dataset_upload"),
        reverse("console:training"),
        reverse("console:batch"),
        reverse("console:settings"),
        reverse("console:model_alias", kwargs={"id": version.model_id}),
        reverse("console:model_predict", kwargs={"id": version.model_id}),
    ]
    for url in posts:
        assert viewer.post(url, {"name": "x"}).status_code == 403, url


@pytest.mark.django_db
def test_a_developer_cannot_manage_keys(tenant, console_for):
    developer = console_for(tenant, role="developer")
    assert developer.post(reverse("console:keys"), {"scopes": ["read"]}).status_code == 403
    assert tenant.api_keys.count() == 0


@pytest.mark.django_db
def test_signing_in_is_rate_limited(client, tenant, settings):
    settings.MAAS_CONSOLE_SIGN_IN_PER_MINUTE = 3
    member = MembershipFactory(tenant=tenant)
    url = reverse("console:login")
    # An address of its own: with Redis the counts outlive the test's transaction.
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    answers = [
        client.post(
            url, {"username": member.user.email, "password": "wrong"}, REMOTE_ADDR=address
        ).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    # the right password is refused too until the minute ends
    right = client.post(
        url, {"username": member.user.email, "password": "member-password"}, REMOTE_ADDR=address
    )
    assert right.status_code == 429
    # and so is any email from that address
    other = MembershipFactory(tenant=tenant)
    again = client.post(
        url, {"username": other.user.email, "password": "member-password"}, REMOTE_ADDR=address
    )
    assert again.status_code == 429


@pytest.mark.django_db
def test_signing_in_with_email_and_password(client, tenant):
    member = MembershipFactory(tenant=tenant)
    response = client.post(
        reverse("console:login"), {"username": member.user.email, "password": "member-password"}
    )
    assert response.status_code == 302
    assert tenant.name in client.get(reverse("console:overview")).content.decode()


@pytest.mark.django_db
def test_a_person_in_two_tenants_switches_between_them_and_only_to_their_own(
    tenant, other_tenant, console_for
):
    from tests.factories import TenantFactory

    signed_in = console_for(tenant)
    second = MembershipFactory(tenant=other_tenant, user=signed_in.member.user, role="viewer")
    assert tenant.name in signed_in.get(reverse("console:overview")).content.decode()
    signed_in.post(reverse("console:switch"), {"member": second.pk})
    page = signed_in.get(reverse("console:overview")).content.decode()
    assert f'value="{second.pk}" selected' in page
    stranger = MembershipFactory(tenant=TenantFactory())
    assert signed_in.post(reverse("console:switch"), {"member": stranger.pk}).status_code == 404
