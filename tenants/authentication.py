"""`Authorization: Bearer mk_...` authentication.

Invariant: a revocation, an expiry or a suspended tenant takes effect on the very next request
in every process. The admission pipeline (maas.admission) authenticates every tenant request with
`authenticate_and_count`, registered by this app's AppConfig: it keeps keys it has checked in a
per-process cache that holds only while maas.generation's number is unchanged, and any write to a
key or a tenant changes it; it still checks the secret, the expiry and the last-used stamp on
every request. `authenticate_api_key` checks a key against the database alone (commands, tests).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from maas.db import write_unless_locked
from maas.errors import AuthenticationError, Forbidden
from maas.generation import GenerationCache, generation_read
from maas.principal import Principal
from maas.ratelimit import PendingCount
from maas.rowloader import RowLoader
from tenants.keys import key_matches, parse_prefix
from tenants.models import ApiKey, Tenant

LAST_USED_RESOLUTION = timedelta(minutes=1)


def _prefix_of(raw_key: str) -> str:
    prefix = parse_prefix(raw_key)
    if prefix is None:
        raise AuthenticationError(
            "That is not a maas API key: keys are 'mk_' followed by 44 letters and digits.",
            code="invalid_api_key",
        )
    return prefix


def _check_secret(raw_key: str, key: ApiKey | None) -> None:
    if key is None or not key_matches(raw_key, key.secret_hash):
        raise AuthenticationError(
            "Invalid API key. Check that it was copied whole, or create a new one.",
            code="invalid_api_key",
        )


def _check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise AuthenticationError(
            f"This API key expired at {expires_at.isoformat()}. Create a new one.",
            code="api_key_expired",
        )


def authenticate_api_key(raw_key: str) -> Principal:
    return _authenticate_from_database(raw_key, _prefix_of(raw_key))[0]


def _authenticate_from_database(raw_key: str, prefix: str) -> tuple[Principal, ApiKey]:
    key = _key_with_tenant(prefix)
    _check_secret(raw_key, key)
    now = timezone.now()
    if key.revoked_at is not None:
        raise AuthenticationError(
            "This API key was revoked. Use another key.", code="api_key_revoked"
        )
    _check_expiry(key.expires_at, now)
    if key.tenant.status != Tenant.Status.ACTIVE:
        raise Forbidden(
            "This account is suspended. Contact support to reactivate it.",
            code="tenant_suspended",
        )
    _touch_last_used(key, now)
    principal = Principal(
        tenant=key.tenant,
        key_id=key.pk,
        scopes=frozenset(key.scopes),
        requests_per_minute=key.tenant.limits.requests_per_minute,
    )
    return principal, key


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
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    written, _ = write_unless_locked(
        lambda: ApiKey.objects.filter(pk=key.pk).filter(stale).update(last_used_at=now)
    )
    if written:  # else another process was writing: a later request of this key writes it
        key.last_used_at = now


@dataclass(slots=True)
class _CachedKey:
    principal: Principal
    key: ApiKey  # secret_hash, expires_at and last_used_at are checked per request


_checked_keys = GenerationCache()


def authenticate_and_count(
    header: str, start_count: Callable[[str, int], PendingCount]
) -> tuple[Principal, PendingCount, object] | None:
    """(principal, its request's count, the generation the principal is current under) for an
    Authorization header; None without one. `start_count(tenant_id, requests_per_minute)`
    counts the request (maas.ratelimit.rate_limit_start).

    A key this process has checked costs no query: it is trusted under the cache's generation,
    and the count's round trip brings the current generation back. The caller compares the two
    (maas.lean_views) before it records or answers anything, and on a difference checks the key
    again with `authenticate_again`. A key's tenant never changes, so the count stands."""
    raw_key = _bearer_token(header)
    if raw_key is None:
        return None
    prefix = _prefix_of(raw_key)
    cached: _CachedKey | None = _checked_keys.peek(prefix)
    if cached is None:
        generation = generation_read()
        principal = _load_and_cache(raw_key, prefix, generation)
        return (
            principal,
            start_count(principal.tenant_id, principal.requests_per_minute),
            generation,
        )
    _check_secret(raw_key, cached.key)
    now = timezone.now()
    _check_expiry(cached.key.expires_at, now)
    _touch_last_used(cached.key, now)
    pending = start_count(cached.principal.tenant_id, cached.principal.requests_per_minute)
    return cached.principal, pending, _checked_keys.generation


def authenticate_again(header: str, generation: object) -> Principal:
    """Checks the header's key against the database, after `generation` was seen to differ
    from the one the cached key was trusted under; every cached entry is dropped."""
    raw_key = _bearer_token(header)
    _checked_keys.valid(generation)  # drops what was cached under the old generation
    return _load_and_cache(raw_key, _prefix_of(raw_key), generation)


def _load_and_cache(raw_key: str, prefix: str, generation: object) -> Principal:
    """The key checked against the database, cached under `generation` (read before it)."""
    principal, key = _authenticate_from_database(raw_key, prefix)
    _checked_keys.put(prefix, _CachedKey(principal, key), generation)
    return principal


def _bearer_token(header: str) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError(
            "The Authorization header must be 'Bearer mk_...'.", code="invalid_authorization"
        )
    return token
