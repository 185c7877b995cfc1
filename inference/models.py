from decimal import Decimal

from django.db import models

from catalog.models import Dataset, Model
from maas.ids import PrefixedIdField
from maas.jobs import ACTIVE_STATUSES, FINISHED_STATUSES, JobStatus
from tenants.models import Tenant


class InferenceJob(models.Model):
    Status = JobStatus
    ACTIVE = ACTIVE_STATUSES
    FINISHED = FINISHED_STATUSES

    id = PrefixedIdField(prefix="inj")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="inference_jobs")
    model = models.ForeignKey(Model, null=True, on_delete=models.SET_NULL, related_name="+")
    model_ref = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    dataset = models.ForeignKey(Dataset, null=True, on_delete=models.SET_NULL, related_name="+")
    dataset_ref = models.CharField(max_length=40)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    attempts = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    completed = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    results_path = models.CharField(max_length=500, blank=True)
    errors_path = models.CharField(max_length=500, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    compute_seconds = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="inference_job_list"),
            models.Index(fields=["tenant", "status"], name="inference_job_status"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.model_ref} v{self.version} ({self.status})"
