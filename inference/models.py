from django.db import models

from maas.ids import PrefixedIdField
from maas.jobs import Job


class InferenceJob(Job):
    """A model version run over a dataset; its lifecycle fields and rules are maas.jobs'."""

    id = PrefixedIdField(prefix="inj")
    model = models.ForeignKey(
        "catalog.Model", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_ref = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    dataset = models.ForeignKey(
        "catalog.Dataset", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    dataset_ref = models.CharField(max_length=40)
    total = models.PositiveBigIntegerField(default=0)
    completed = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    results_path = models.CharField(max_length=500, blank=True)
    errors_path = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="inference_job_list"),
            models.Index(fields=["tenant", "status"], name="inference_job_status"),
            models.Index(fields=["status", "heartbeat_at"], name="inference_job_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.model_ref} v{self.version} ({self.status})"
