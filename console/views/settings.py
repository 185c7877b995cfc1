"""Settings: the spend cap and its alerts, webhook endpoints and their delivery log, members."""

from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.exceptions import ValidationError

from billing.selectors import ALERT_THRESHOLDS
from console.access import ConsoleView, admit
from maas.errors import InvalidRequest
from maas.scopes import Scope
from maas.serializers import MoneyInputField
from tenants.selectors import MEMBER_ROLES, membership_get, membership_list
from tenants.services import member_create, member_remove, member_set_role, tenant_update
from webhooks.selectors import webhook_delivery_list, webhook_endpoint_list
from webhooks.services import webhook_endpoint_create

EVENT_TYPES_HINT = "comma-separated, e.g. training_job.succeeded, inference_job.*; empty: all"


def invitation_send(request, membership) -> None:
    """Emails the invited person a link to choose their password (Django's reset token)."""
    user = membership.user
    link = request.build_absolute_uri(
        reverse(
            "console:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
    )
    send_mail(
        f"You are invited to {membership.tenant.name} on maas",
        f"{request.user.email} added you to {membership.tenant.name} as {membership.role}.\n\n"
        f"Choose your password here: {link}\n",
        None,
        [user.email],
    )


class SettingsView(ConsoleView):
    action = "admin"

    def get(self, request):
        tenant = self.tenant
        return render(
            request,
            "console/settings.html",
            self.context(
                thresholds=ALERT_THRESHOLDS,
                endpoints=webhook_endpoint_list(tenant=tenant).order_by("-created_at"),
                deliveries=webhook_delivery_list(tenant=tenant).order_by("-created_at")[:30],
                members=membership_list(tenant=tenant),
                roles=MEMBER_ROLES,
                event_hint=EVENT_TYPES_HINT,
            ),
        )

    def post(self, request):
        handler = {
            "spend_limit": self._spend_limit,
            "webhook": self._webhook,
            "invite": self._invite,
            "role": self._role,
            "remove": self._remove,
        }.get(request.POST.get("do", ""))
        if handler is None:
            messages.error(request, "Unknown action.")
        else:
            handler(request)
        return redirect("console:settings")

    def _done(self, request, error: str | None, success: str) -> None:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, success)

    def _spend_limit(self, request) -> None:
        raw = request.POST.get("spend_limit", "").strip()
        try:
            limit = None if raw == "" else MoneyInputField().run_validation(raw)
        except ValidationError as exc:
            messages.error(request, f"Spend cap: {' '.join(str(m) for m in exc.detail)}")
            return
        _, error = admit(
            self,
            request,
            lambda principal: tenant_update(tenant=principal.tenant, spend_limit=limit),
            scope=Scope.ADMIN,
        )
        self._done(
            request, error, f"Spend cap {'removed' if limit is None else f'set to {limit}'}."
        )

    def _webhook(self, request) -> None:
        events = [e.strip() for e in request.POST.get("events", "").split(",") if e.strip()]
        endpoint, error = admit(
            self,
            request,
            lambda principal: webhook_endpoint_create(
                tenant=principal.tenant,
                url=request.POST.get("url", "").strip(),
                events=events or ["*"],
                description=request.POST.get("description", "").strip()[:200],
            ),
            scope=Scope.ADMIN,
        )
        self._done(
            request,
            error,
            f"Endpoint added. Its signing secret: {endpoint.secret}" if endpoint else "",
        )

    def _owner_only(self, request) -> bool:
        if not self.can("owner"):
            messages.error(request, "Only an owner manages members.")
            return False
        return True

    def _invite(self, request) -> None:
        if not self._owner_only(request):
            return
        role = request.POST.get("role", "developer")
        email = request.POST.get("email", "")
        membership, error = admit(
            self,
            request,
            _plainly(lambda p: member_create(tenant=p.tenant, email=email, role=role)),
            scope=Scope.ADMIN,
        )
        if membership is not None:
            invitation_send(request, membership)
        self._done(request, error, f"Invited {email}: they get an email to choose a password.")

    def _member(self, request):
        member_id = request.POST.get("member", "")
        return self.found(membership_get(tenant=self.tenant, membership_id=member_id))

    def _role(self, request) -> None:
        if not self._owner_only(request):
            return
        membership, role = self._member(request), request.POST.get("role", "")
        _, error = admit(
            self,
            request,
            _plainly(lambda p: member_set_role(membership=membership, role=role)),
            scope=Scope.ADMIN,
        )
        self._done(request, error, f"{membership.user.email} is now {role}.")

    def _remove(self, request) -> None:
        if not self._owner_only(request):
            return
        membership = self._member(request)
        _, error = admit(
            self, request, lambda p: member_remove(membership=membership), scope=Scope.ADMIN
        )
        self._done(request, error, f"{membership.user.email} removed.")


def _plainly(work):
    """A service's ValueError or Django ValidationError (a bad email or role) as a 400 that
    names the problem, instead of an unexpected error."""

    def run(principal):
        try:
            return work(principal)
        except DjangoValidationError as exc:
            raise InvalidRequest(" ".join(exc.messages)) from None
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None

    return run
