from django.contrib import admin

from catalog.models import Dataset, Model, ModelVersion


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "tenant", "format", "n_rows", "size_bytes", "created_at")
    list_filter = ("format",)
    search_fields = ("id", "name", "tenant__id", "tenant__name", "sha256")
    readonly_fields = [f.name for f in Dataset._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # datasets come through the API, which checks and meters them


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    extra = 0
    can_delete = False
    fields = (
        "version",
        "algorithm",
        "framework",
        "price_tier",
        "metrics",
        "onnx_parity",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Model)
class ModelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "tenant", "task", "latest_version", "created_at")
    list_filter = ("task",)
    search_fields = ("id", "name", "tenant__id", "tenant__name")
    readonly_fields = [f.name for f in Model._meta.fields]
    inlines = (ModelVersionInline,)

    def has_add_permission(self, request) -> bool:
        return False  # models come from training jobs
