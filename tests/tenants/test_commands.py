import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenants.authentication import authenticate_api_key
from tenants.models import ApiKey, Tenant

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_tenant_prints_a_working_key_with_every_scope():
    printed = json.loads(run("create_tenant", "Acme", "--plan", "enterprise", "--email", "a@b.co"))
    assert set(printed) == {"tenant_id", "api_key"}
    principal = authenticate_api_key(printed["api_key"])
    assert principal.tenant_id == printed["tenant_id"]
    assert principal.scopes == {"read", "write", "predict", "billing", "admin"}
    tenant = Tenant.objects.get(pk=printed["tenant_id"])
    assert (tenant.name, tenant.plan, tenant.email) == ("Acme", "enterprise", "a@b.co")


def test_create_tenant_rate_limit_override():
    printed = json.loads(run("create_tenant", "Load test", "--requests-per-minute", "1000000"))
    assert authenticate_api_key(printed["api_key"]).requests_per_minute == 1_000_000


def test_create_api_key_with_scopes():
    tenant_id = json.loads(run("create_tenant", "Acme"))["tenant_id"]
    printed = json.loads(
        run("create_api_key", tenant_id, "--name", "ci", "--scopes", "read,predict")
    )
    assert set(printed) == {"id", "api_key"}
    key = ApiKey.objects.get(pk=printed["id"])
    assert key.name == "ci" and key.scopes == ["read", "predict"]
    assert authenticate_api_key(printed["api_key"]).key_id == printed["id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["ten_missing"], "no tenant"), (["{tenant}", "--scopes", "read,root"], "unknown scopes")],
)
def test_create_api_key_refuses_bad_input(args, message):
    tenant_id = json.loads(run("create_tenant", "Acme"))["tenant_id"]
    with pytest.raises(CommandError, match=message):
        run("create_api_key", *[a.format(tenant=tenant_id) for a in args])


def test_demo_tenant_is_created_once_and_prints_a_working_curl(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = run("demo_tenant", "--port", "8123")
    second = run("demo_tenant", "--port", "8123")
    assert first == second
    key = (tmp_path / "demo-api-key").read_text().strip()
    assert f'curl -s -H "Authorization: Bearer {key}" http://localhost:8123/v1/tenant' in first
    assert "  pip install ./client\n" in first
    assert f"MAAS_API_KEY={key} MAAS_BASE_URL=http://localhost:8123 maas datasets list" in first
    assert f"MAAS_API_KEY={key} maas datasets list" in run("demo_tenant", "--port", "8000")
    assert Tenant.objects.filter(name="Demo Company").count() == 1
    ApiKey.objects.filter(prefix=key[:15]).update(revoked_at="2026-01-01T00:00:00Z")
    third = run("demo_tenant")
    assert key not in third and Tenant.objects.filter(name="Demo Company").count() == 1


def test_demo_tenant_prints_a_console_sign_in_that_works(settings, tmp_path):
    from django.contrib.auth import authenticate

    settings.DATA_DIR = tmp_path
    first = run("demo_tenant", "--port", "8123")
    password = (tmp_path / "demo-console-password").read_text().strip()
    line = "Or in the console: http://localhost:8123/console/  (sign in as demo@example.com, "
    assert f"{line}password {password})" in first
    assert authenticate(username="demo@example.com", password=password).memberships.get().role == (
        "owner"
    )
    assert run("demo_tenant", "--port", "8123") == first  # the same password next time
