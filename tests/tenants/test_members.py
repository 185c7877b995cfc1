"""Console members: `create_member` (API.md "Tenant console, client and CLI") and the rules
of the member services."""

import io
import json
import sys

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from maas.errors import Conflict
from tenants.models import Membership
from tenants.roles import role_allows, role_scopes
from tenants.services import member_create, member_remove, member_set_role

pytestmark = pytest.mark.django_db


def run(*args: str, stdin: str = "") -> dict:
    out = io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("create_member", *args, stdout=out)
    finally:
        sys.stdin = saved
    return json.loads(out.getvalue())


def test_create_member_prints_the_member_and_sets_the_password(tenant):
    printed = run(
        tenant.pk,
        "Ada@Example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long passphrase 42\n",
    )
    member = Membership.objects.get(pk=printed["member_id"])
    assert printed == {"member_id": member.pk, "email": "ada@example.com", "role": "admin"}
    assert authenticate(username="ada@example.com", password="a long passphrase 42")


def test_without_a_password_the_member_sets_one_through_the_reset_link(tenant):
    printed = run(tenant.pk, "bob@example.com")
    member = Membership.objects.get(pk=printed["member_id"])
    assert printed["role"] == "developer"
    assert not member.user.has_usable_password()


def test_one_person_can_be_in_two_tenants(tenant, other_tenant):
    first = run(tenant.pk, "cy@example.com", "--role", "viewer")
    second = run(other_tenant.pk, "cy@example.com", "--role", "owner")
    assert (
        Membership.objects.get(pk=first["member_id"]).user_id
        == Membership.objects.get(pk=second["member_id"]).user_id
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["ten_nope", "a@example.com"], "no tenant"),
        (["{tenant}", "not-an-email"], "valid email"),
    ],
)
def test_mistakes_are_said_plainly(tenant, args, message):
    args = [a.format(tenant=tenant.pk) for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("create_member", *args, stdout=io.StringIO())


def test_a_weak_password_is_refused(tenant):
    with pytest.raises(CommandError, match=r"too short|too common"):
        run(tenant.pk, "d@example.com", "--password-stdin", stdin="abc\n")


def test_twice_is_a_conflict(tenant):
    member_create(tenant=tenant, email="e@example.com")
    with pytest.raises(Conflict):
        member_create(tenant=tenant, email="E@example.com")


def test_a_tenant_keeps_one_owner(tenant):
    owner = member_create(tenant=tenant, email="o@example.com", role="owner")
    with pytest.raises(Conflict):
        member_set_role(membership=owner, role="viewer")
    with pytest.raises(Conflict):
        member_remove(membership=owner)
    member_create(tenant=tenant, email="o2@example.com", role="owner")
    member_set_role(membership=owner, role="viewer")
    assert Membership.objects.get(pk=owner.pk).role == "viewer"


def test_roles_are_ordered():
    assert role_allows("owner", "owner") and not role_allows("admin", "owner")
    assert role_allows("admin", "admin") and not role_allows("developer", "admin")
    assert role_allows("developer", "work") and not role_allows("viewer", "work")
    assert role_allows("viewer", "read")
    assert role_scopes("viewer") == {"read", "billing"}
    assert "predict" in role_scopes("developer") and "admin" not in role_scopes("developer")
    assert "admin" in role_scopes("admin")
