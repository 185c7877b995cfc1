import re

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.urls import reverse

from tenants.authentication import authenticate_api_key
from tenants.models import ApiKey
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = User.objects.create_user("operator", password="pw", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_admin_needs_a_staff_login(client):
    response = client.get("/admin/tenants/tenant/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    User.objects.create_user("someone", password="pw", is_staff=False)
    client.login(username="someone", password="pw")
    assert client.get("/admin/tenants/tenant/").status_code == 302


def test_tenant_page_shows_its_keys_and_members(staff_client, api_key):
    response = staff_client.get(
        reverse("admin:tenants_tenant_change", args=[quote(api_key.tenant_id)])
    )
    assert response.status_code == 200
    assert api_key.prefix in response.content.decode()
    assert "Memberships" in response.content.decode()


def test_adding_a_key_shows_the_secret_once(staff_client, tenant):
    response = staff_client.post(
        "/admin/tenants/apikey/add/",
        {"tenant": tenant.pk, "name": "from admin", "scopes": ["read", "predict"]},
        follow=True,
    )
    assert response.status_code == 200
    shown = re.search(r"mk_[A-Za-z0-9]{44}", response.content.decode())
    assert shown, "the new key is shown"
    key = ApiKey.objects.get(name="from admin")
    assert key.scopes == ["read", "predict"]
    assert authenticate_api_key(shown.group(0)).key_id == key.pk
    page = staff_client.get(
        reverse("admin:tenants_apikey_change", args=[quote(key.pk)])
    ).content.decode()
    assert shown.group(0) not in page


def test_revoke_action(staff_client, tenant):
    key = ApiKeyFactory(tenant=tenant)
    staff_client.post(
        "/admin/tenants/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
