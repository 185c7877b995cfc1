from django.db import models

from maas.ids import PrefixedIdField
from maas.jobs import Job


class TrainingJob(Job):
    """A model fitted on a dataset; its lifecycle fields and rules are maas.jobs'."""

    id = PrefixedIdField(prefix="trj")
    dataset = models.ForeignKey(
        "catalog.Dataset", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    dataset_ref = models.CharField(max_length=40, help_text="the dataset id, kept if it is deleted")
    algorithm = models.CharField(max_length=50)
    params = models.JSONField(default=dict)
    target = models.CharField(max_length=200)
    features = models.JSONField(default=list)
    model_name = models.CharField(max_length=100)
    validation_split = models.FloatField(default=0.2)
    cv_folds = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="k-fold cross-validation; null: none"
    )
    model = models.ForeignKey(
        "catalog.Model", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_version = models.PositiveIntegerField(null=True, blank=True)
    metrics = models.JSONField(null=True, blank=True)
    rows_processed = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="training_job_list"),
            models.Index(fields=["tenant", "status"], name="training_job_status"),
            models.Index(fields=["status", "heartbeat_at"], name="training_job_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.algorithm} ({self.status})"


class TrainingEvent(models.Model):
    id = PrefixedIdField(prefix="tev")
    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10, default="info")
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "-created_at", "-id"], name="training_event_list")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.message}"
