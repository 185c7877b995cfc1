"""What each console role may do: the one place that says it (docs/console.md).

Roles are ordered: each has what the one below it has. A viewer reads; a developer also works
with datasets, jobs and models and predicts; an admin also manages API keys, webhooks and the
spend cap; the owner also manages members and billing.
"""

from enum import IntEnum

from maas.scopes import ALL_SCOPES, Scope
from tenants.models import Membership


class Rank(IntEnum):
    VIEWER = 0
    DEVELOPER = 1
    ADMIN = 2
    OWNER = 3


ROLE_RANK = {
    Membership.Role.VIEWER: Rank.VIEWER,
    Membership.Role.DEVELOPER: Rank.DEVELOPER,
    Membership.Role.ADMIN: Rank.ADMIN,
    Membership.Role.OWNER: Rank.OWNER,
}

# What a console action needs, by kind of action.
NEEDS = {
    "read": Rank.VIEWER,
    "work": Rank.DEVELOPER,  # datasets, training and batch jobs, aliases, the playground
    "admin": Rank.ADMIN,  # API keys, webhook endpoints, the spend cap and its alerts
    "owner": Rank.OWNER,  # members
}


def role_allows(role: str, action: str) -> bool:
    return ROLE_RANK[Membership.Role(role)] >= NEEDS[action]


def role_scopes(role: str) -> frozenset[str]:
    """The API scopes a member's console actions run with (the same admission rules as a key
    with these scopes)."""
    rank = ROLE_RANK[Membership.Role(role)]
    if rank >= Rank.ADMIN:
        return frozenset(ALL_SCOPES)
    if rank >= Rank.DEVELOPER:
        return frozenset({Scope.READ, Scope.WRITE, Scope.PREDICT, Scope.BILLING})
    return frozenset({Scope.READ, Scope.BILLING})
