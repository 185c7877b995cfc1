"""Operators' admin for tenants, members and API keys (staff login only: Django admin's rule)."""

from django import forms
from django.contrib import admin, messages

from maas.scopes import ALL_SCOPES
from tenants import services
from tenants.models import ApiKey, Membership, Tenant

# What an operator may see of a key (never its hash).
KEY_FIELDS = (
    "id",
    "name",
    "prefix",
    "scopes",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    show_change_link = True
    fields = KEY_FIELDS
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are added from the API key page, which shows the secret once


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "plan", "status", "spend_limit", "created_at")
    list_filter = ("plan", "status")
    search_fields = ("id", "name", "email")
    readonly_fields = ("id", "created_at", "updated_at")
    inlines = (ApiKeyInline, MembershipInline)


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in ALL_SCOPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ("tenant", "name", "scopes", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "name",
        "tenant",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("id", "prefix", "name", "tenant__name", "tenant__id")
    autocomplete_fields = ("tenant",)
    actions = ("revoke",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else tuple(f for f in ("tenant", *KEY_FIELDS) if f != "name")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("tenant", "name", "scopes", "expires_at")
        return ("tenant", *KEY_FIELDS)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        raw = services.api_key_assign_secret(obj)
        obj.save()
        messages.warning(
            request,
            f"API key created. Copy it now, it will not be shown again: {raw}",
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # keys are revoked, never deleted, so their usage stays traceable

    @admin.action(description="Revoke selected keys (irreversible)")
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            services.api_key_revoke(key=key)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "tenant__name", "tenant__id")
    autocomplete_fields = ("user", "tenant")
