from django.contrib import admin

from catalog.models import Dataset


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "tenant", "format", "n_rows", "size_bytes", "created_at")
    list_filter = ("format",)
    search_fields = ("id", "name", "tenant__id", "tenant__name", "sha256")
    readonly_fields = [f.name for f in Dataset._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # datasets come through the API, which checks and meters them
