from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from catalog.models import Dataset, Model, ModelAlias, ModelAliasMove, ModelVersion


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
    show_change_link = True  # the version's page: its evaluation
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


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ModelAliasInline(_ReadOnlyInline):
    """Aliases move through the API only (PUT /v1/models/{id}/aliases/{alias}), so that every
    move is in the audit trail below."""

    model = ModelAlias
    fields = ("name", "version", "updated_at")
    readonly_fields = fields


class ModelAliasMoveInline(_ReadOnlyInline):
    model = ModelAliasMove
    verbose_name = "alias move"
    verbose_name_plural = "alias moves (audit trail: who, when, from, to)"
    fields = ("created_at", "actor", "alias", "from_version", "to_version")
    readonly_fields = fields
    ordering = ("-created_at", "-id")


@admin.register(ModelAliasMove)
class ModelAliasMoveAdmin(admin.ModelAdmin):
    list_display = ("created_at", "model", "alias", "from_version", "to_version", "actor")
    list_filter = ("alias",)
    search_fields = ("model__id", "model__name", "model__tenant__id", "alias", "actor")
    readonly_fields = [f.name for f in ModelAliasMove._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an audit trail


@admin.register(Model)
class ModelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "tenant", "task", "latest_version", "created_at")
    list_filter = ("task",)
    search_fields = ("id", "name", "tenant__id", "tenant__name")
    readonly_fields = [f.name for f in Model._meta.fields]
    inlines = (ModelAliasInline, ModelVersionInline, ModelAliasMoveInline)

    def has_add_permission(self, request) -> bool:
        return False  # models come from training jobs


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """A version's page: what it is, and its evaluation drawn as a confusion-matrix table and
    an importance bar chart."""

    list_display = ("model", "version", "algorithm", "price_tier", "created_at")
    list_filter = ("algorithm", "framework")
    search_fields = ("model__id", "model__name", "model__tenant__id")
    fields = (
        "model",
        "version",
        "algorithm",
        "framework",
        "price_tier",
        "params",
        "metrics",
        "confusion_matrix",
        "feature_importance",
        "cross_validation",
        "signature",
        "training_job",
        "onnx_parity",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="confusion matrix (validation rows; row: true, column: predicted)")
    def confusion_matrix(self, version: ModelVersion) -> SafeString | str:
        found = (version.evaluation or {}).get("validation", {}).get("confusion_matrix")
        if not found:
            return "-"
        labels = found["labels"]
        head = format_html_join("", "<th>{}</th>", ((label,) for label in labels))
        body = format_html_join(
            "",
            "<tr><th>{}</th>{}</tr>",
            (
                (label, format_html_join("", "<td>{}</td>", ((cell,) for cell in row)))
                for label, row in zip(labels, found["matrix"], strict=True)
            ),
        )
        return format_html(
            '<table class="maas-confusion"><tr><th></th>{}</tr>{}</table>', head, body
        )

    @admin.display(description="feature importance (permutation, validation rows)")
    def feature_importance(self, version: ModelVersion) -> SafeString | str:
        found = (version.evaluation or {}).get("feature_importance")
        if not found:
            return "-"
        top = max((abs(item["importance"]) for item in found), default=0) or 1
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                '<tr><td>{}</td><td><div style="background:#417690;height:12px;width:{}px">'
                "</div></td><td>{}</td></tr>",
                (
                    (
                        item["feature"],
                        round(240 * max(item["importance"], 0) / top),
                        f"{item['importance']:.4f} ± {item['std']:.4f}",
                    )
                    for item in found
                ),
            ),
        )

    @admin.display(description="cross-validation (mean ± std over folds)")
    def cross_validation(self, version: ModelVersion) -> SafeString | str:
        found = (version.evaluation or {}).get("cross_validation")
        if not found:
            return "-"
        rows = (
            (name, f"{m['mean']:.4f} ± {m['std']:.4f}" if m["mean"] is not None else "-")
            for name, m in found["metrics"].items()
        )
        return format_html(
            "{} folds<table>{}</table>",
            found["folds"],
            format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", rows),
        )
