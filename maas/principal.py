"""What authentication yields: the tenant, the key and its scopes.

Defined in `maas` so the plumbing (base view, rate limits, idempotency) can use it without
importing `tenants`, which sits above `maas` in the import order.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    tenant: Any  # tenants.models.Tenant
    key_id: str
    scopes: frozenset[str]
    requests_per_minute: int

    # DRF and Django code that looks at request.user expects these.
    is_authenticated = True
    is_anonymous = False

    @property
    def tenant_id(self) -> str:
        return self.tenant.pk

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
