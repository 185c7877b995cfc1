"""Who a console request acts for, and how its actions are admitted (docs/console.md).

Invariant it protects, as maas.base_views does for the API: a console page reaches only the
signed-in member's tenant. Every view subclasses `ConsoleView`, which takes the tenant from the
member's membership (never from the URL or a form) and hands it to the views, which read
through the apps' selectors with `tenant=`; another tenant's id is a 404 like an unknown one.

Actions (create, revoke, promote, predict...) run through maas.admission with a principal made
from the member (`admit`), the pipeline API keys go through: the same rate limit, role-derived
scopes, spend cap and usage recording.
"""

from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import resolve, reverse
from django.views import View

from maas.admission import LeanResponse, Policy, Result, serve
from maas.principal import Principal
from maas.scopes import Scope
from tenants.selectors import (
    membership_for_user,
    memberships_of_user,
    role_allows,
    role_scopes,
)

SESSION_MEMBERSHIP = "console_membership"


class RoleForbidden(Exception):
    """The member's role may not do this: a 403 page."""


def member_principal(membership: Any) -> Principal:
    """What the admission pipeline sees for a console action: the tenant, the member (in
    place of an API key: usage events name `mem_...`), the role's scopes and the tenant's
    rate limit."""
    tenant = membership.tenant
    return Principal(
        tenant=tenant,
        key_id=membership.pk,
        scopes=role_scopes(membership.role),
        requests_per_minute=tenant.limits.requests_per_minute,
    )


class ConsoleView(LoginRequiredMixin, View):
    """The one base of console pages. `action`: what a POST needs (tenants.roles.NEEDS)."""

    action: ClassVar[str] = "work"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = membership_for_user(
            user=request.user, membership_id=request.session.get(SESSION_MEMBERSHIP)
        )
        if membership is None or membership.tenant.status != "active":
            return HttpResponse(
                "This account has no active tenant. Ask an owner to invite you.", status=403
            )
        self.membership, self.tenant = membership, membership.tenant
        if request.method not in ("GET", "HEAD") and not role_allows(membership.role, self.action):
            return HttpResponse(
                f"Your role ({membership.role}) cannot do this. Ask an owner.", status=403
            )
        return super().dispatch(request, *args, **kwargs)

    def can(self, action: str) -> bool:
        return role_allows(self.membership.role, action)

    def found(self, obj: Any) -> Any:
        """A selector's answer, or 404: another tenant's object is not found."""
        if obj is None:
            raise Http404("Not found.")
        return obj

    def context(self, **values: Any) -> dict[str, Any]:
        return {
            "membership": self.membership,
            "memberships": memberships_of_user(user=self.request.user),
            "tenant": self.tenant,
            "can_work": self.can("work"),
            "can_admin": self.can("admin"),
            "is_owner": self.can("owner"),
            **values,
        }


def admit(
    view: ConsoleView,
    request: HttpRequest,
    work: Callable[[Principal], Any],
    *,
    scope: Scope = Scope.WRITE,
    spend_checked: bool = False,
) -> tuple[Any, str | None]:
    """Runs `work(principal)` as the API would run it for a key with the member's scopes:
    rate-limited, scope-checked, spend-capped when `spend_checked`, in a transaction. Returns
    (what work returned, None) or (None, the error message a person reads)."""
    method = request.method
    policy = Policy(
        methods=(method,),
        scopes={method: scope},
        spend_checked=frozenset({method}) if spend_checked else frozenset(),
    )
    outcome: list[Any] = []

    def handler(request: HttpRequest, principal: Principal) -> Result:
        outcome.append(work(principal))
        return Result(LeanResponse(200, b"", {}))

    answer = delegate(view, request, lambda: serve(request, policy, handler))
    if answer.status_code >= 400:
        return None, error_message(answer)
    return outcome[0], None


def delegate(view: ConsoleView, request: HttpRequest, call: Callable[[], Any]) -> Any:
    """Calls an API handler or view in-process for the signed-in member: the request carries
    the member's principal, which maas.admission takes in place of an API key."""
    request.maas_session_principal = member_principal(view.membership)
    try:
        return call()
    finally:
        del request.maas_session_principal


def error_message(answer: LeanResponse | HttpResponse) -> str:
    try:
        return orjson.loads(answer.content)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"The request failed ({answer.status_code})."


def api_call(view: ConsoleView, request: HttpRequest, name: str, **kwargs: Any) -> HttpResponse:
    """Runs the API endpoint named `name` (its URL name) in-process for the member, on this
    request (its method, query and body): one code path for the console and the API. Found
    through the URLconf, so the console imports no app's views."""
    match = resolve(reverse(name, kwargs=kwargs))
    return delegate(view, request, lambda: match.func(request, *match.args, **match.kwargs))


def xhr_csrf_check(request: HttpRequest) -> HttpResponse | None:
    """CSRF protection for a script's request whose body must stay unread (uploads): it must
    carry the X-CSRFToken header, which another site's page can only send after a CORS
    preflight that maas never grants, and if it names an origin, it must be this host's.
    Answers the refusal, or None."""
    if not request.META.get("HTTP_X_CSRFTOKEN"):
        return HttpResponse("Send the form from the console (X-CSRFToken missing).", status=403)
    origin = request.META.get("HTTP_ORIGIN")
    if origin and urlsplit(origin).netloc != request.get_host():
        return HttpResponse("Cross-site request refused.", status=403)
    return None


class SwitchTenantView(ConsoleView):
    """Works in another of the person's tenants (one email can belong to several)."""

    action = "read"

    def post(self, request: HttpRequest) -> HttpResponse:
        chosen = membership_for_user(user=request.user, membership_id=request.POST.get("member"))
        if chosen is None:
            raise Http404("Not found.")
        request.session[SESSION_MEMBERSHIP] = chosen.pk
        return redirect("console:overview")
