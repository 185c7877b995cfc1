from decimal import Decimal

from django.db import models

from catalog.models import Dataset, Model
from maas.ids import PrefixedIdField
from maas.jobs import ACTIVE_STATUSES, FINISHED_STATUSES, JobStatus
from tenants.models import Tenant


class TrainingJob(models.Model):
    Status = JobStatus
    ACTIVE = ACTIVE_STATUSES
    FINISHED = FINISHED_STATUSES

    id = PrefixedIdField(prefix="trj")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="training_jobs")
    dataset = models.ForeignKey(Dataset, null=True, on_delete=models.SET_NULL, related_name="+")
    dataset_ref = models.CharField(max_length=40, help_text="the dataset id, kept if it is deleted")
    algorithm = models.CharField(max_length=50)
    params = models.JSONField(default=dict)
    target = models.CharField(max_length=200)
    features = models.JSONField(default=list)
    model_name = models.CharField(max_length=100)
    validation_split = models.FloatField(default=0.2)
    queue = models.CharField(max_length=30)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    attempts = models.PositiveSmallIntegerField(default=0)
    model = models.ForeignKey(
        Model, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_version = models.PositiveIntegerField(null=True, blank=True)
    metrics = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    compute_seconds = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    rows_processed = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="training_job_list"),
            models.Index(fields=["tenant", "status"], name="training_job_status"),
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
