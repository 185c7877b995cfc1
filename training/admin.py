from django.contrib import admin, messages

from training import services
from training.models import TrainingEvent, TrainingJob


class TrainingEventInline(admin.TabularInline):
    model = TrainingEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "level", "message", "data")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "algorithm", "status", "progress", "model", "created_at")
    list_filter = ("status", "algorithm", "queue")
    search_fields = ("id", "tenant__id", "tenant__name", "model_name")
    inlines = (TrainingEventInline,)
    readonly_fields = [f.name for f in TrainingJob._meta.fields]
    actions = ("rerun",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Re-run selected jobs (as new jobs)")
    def rerun(self, request, queryset):
        created = 0
        for job in queryset:
            try:
                services.training_job_create(
                    tenant=job.tenant,
                    dataset=job.dataset_ref,
                    target=job.target,
                    features=job.features,
                    algorithm=job.algorithm,
                    params=job.params,
                    model=job.model_name,
                    validation_split=job.validation_split,
                )
                created += 1
            except Exception as exc:
                self.message_user(request, f"{job.pk}: {exc}", messages.ERROR)
        self.message_user(request, f"Queued {created} job(s).", messages.SUCCESS)
