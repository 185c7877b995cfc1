"""`Authorization: Bearer mk_...` authentication.

Invariant: every request is checked against the database row of its key, so a revocation, an
expiry or a suspended tenant takes effect on the very next request in every process. Nothing
about a key's validity is cached between requests.
"""

from datetime import timedelta
from functools import cache

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from maas.errors import AuthenticationError, Forbidden
from maas.principal import Principal
from maas.rowloader import RowLoader
from tenants.keys import key_matches, parse_prefix
from tenants.models import ApiKey, Tenant

LAST_USED_RESOLUTION = timedelta(minutes=1)


def authenticate_api_key(raw_key: str) -> Principal:
    prefix = parse_prefix(raw_key)
    if prefix is None:
        raise AuthenticationError(
            "That is not a maas API key: keys are 'mk_' followed by 44 letters and digits.",
            code="invalid_api_key",
        )
    key = _key_with_tenant(prefix)
    if key is None or not key_matches(raw_key, key.secret_hash):
        raise AuthenticationError(
            "Invalid API key. Check that it was copied whole, or create a new one.",
            code="invalid_api_key",
        )
    now = timezone.now()
    if key.revoked_at is not None:
        raise AuthenticationError(
            "This API key was revoked. Use another key.", code="api_key_revoked"
        )
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationError(
            f"This API key expired at {key.expires_at.isoformat()}. Create a new one.",
            code="api_key_expired",
        )
    if key.tenant.status != Tenant.Status.ACTIVE:
        raise Forbidden(
            "This account is suspended. Contact support to reactivate it.",
            code="tenant_suspended",
        )
    _touch_last_used(key, now)
    return Principal(
        tenant=key.tenant,
        key_id=key.pk,
        scopes=frozenset(key.scopes),
        requests_per_minute=key.tenant.limits.requests_per_minute,
    )


@cache
def _key_lookup() -> tuple[str, RowLoader, RowLoader]:
    keys, tenants = RowLoader(ApiKey, "k"), RowLoader(Tenant, "t")
    qn = connection.ops.quote_name
    sql = (
        f"SELECT {keys.columns}, {tenants.columns} "  # noqa: S608  (identifiers from the models)
        f"FROM {qn(ApiKey._meta.db_table)} k "
        f"JOIN {qn(Tenant._meta.db_table)} t ON t.{qn('id')} = k.{qn('tenant_id')} "
        f"WHERE k.{qn('prefix')} = %s"
    )
    return sql, keys, tenants


def _key_with_tenant(prefix: str) -> ApiKey | None:
    """The key with its tenant, in one query without the ORM's per-query compile cost (this runs
    on every request; see maas.rowloader)."""
    sql, keys, tenants = _key_lookup()
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    key = keys.build(row[: keys.width])
    key.tenant = tenants.build(row[keys.width :])
    return key


def _touch_last_used(key: ApiKey, now) -> None:
    """Writes last_used_at at most once a minute per key, whatever the request rate."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)


def principal_from_authorization(header: str) -> Principal | None:
    """The principal of an `Authorization: Bearer mk_...` header; None when there is none."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError(
            "The Authorization header must be 'Bearer mk_...'.", code="invalid_authorization"
        )
    return authenticate_api_key(token)


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Principal, Principal] | None:
        principal = principal_from_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
        return None if principal is None else (principal, principal)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="maas"'
