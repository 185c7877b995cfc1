from django.contrib import admin

from billing.selectors import model_predictions_total
from inference.models import InferenceJob


@admin.register(InferenceJob)
class InferenceJobAdmin(admin.ModelAdmin):
    """Recent batch jobs, with each model's prediction count from billing's daily rollups."""

    list_display = (
        "id",
        "tenant",
        "model_ref",
        "version",
        "status",
        "completed",
        "failed",
        "model_predictions",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("id", "tenant__id", "model_ref", "dataset_ref")
    readonly_fields = [f.name for f in InferenceJob._meta.fields]
    ordering = ("-created_at",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="predictions of the model (all time)")
    def model_predictions(self, obj: InferenceJob) -> int:
        return model_predictions_total(tenant_id=obj.tenant_id, model_id=obj.model_ref)
