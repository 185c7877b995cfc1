"""API keys: create with scopes (the secret shown once), revoke, last used."""

from django.contrib import messages
from django.shortcuts import redirect, render

from console.access import ConsoleView, admit
from maas.scopes import ALL_SCOPES, Scope
from tenants.selectors import api_key_list
from tenants.services import api_key_create, api_key_revoke

SESSION_NEW_SECRET = "console_new_key"  # noqa: S105  (a session key name, not a secret)


class KeyListView(ConsoleView):
    action = "admin"

    def get(self, request):
        shown = request.session.pop(SESSION_NEW_SECRET, None)  # shown once, then gone
        keys = api_key_list(tenant=self.tenant).order_by("-created_at")
        return render(
            request,
            "console/keys.html",
            self.context(keys=keys, scopes=ALL_SCOPES, new_key=shown),
        )

    def post(self, request):
        scopes = [s for s in request.POST.getlist("scopes") if s in ALL_SCOPES]
        if not scopes:
            messages.error(request, "Choose at least one scope for the key.")
            return redirect("console:keys")
        name = request.POST.get("name", "").strip()[:200]
        created, error = admit(
            self,
            request,
            lambda principal: api_key_create(
                tenant=principal.tenant, scopes=scopes, name=name, granted_by=principal.scopes
            ),
            scope=Scope.ADMIN,
        )
        if error:
            messages.error(request, error)
        else:
            key, raw = created
            # Kept in the session only until the next page shows it.
            request.session[SESSION_NEW_SECRET] = {"id": key.pk, "secret": raw, "name": key.name}
        return redirect("console:keys")


class KeyRevokeView(ConsoleView):
    action = "admin"

    def post(self, request, id):
        key = self.found(api_key_list(tenant=self.tenant).filter(pk=id).first())
        _, error = admit(
            self, request, lambda principal: api_key_revoke(key=key), scope=Scope.ADMIN
        )
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Key {key.pk} revoked.")
        return redirect("console:keys")
