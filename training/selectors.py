"""Reads of training jobs; each takes the tenant it reads for."""

from django.db.models import QuerySet

from training.models import TrainingEvent, TrainingJob


def training_job_list(*, tenant) -> QuerySet[TrainingJob]:
    return TrainingJob.objects.filter(tenant=tenant)


def training_job_get(*, tenant, job_id: str) -> TrainingJob | None:
    return TrainingJob.objects.filter(tenant=tenant, pk=job_id).first()


def training_event_list(*, tenant, job_id: str) -> QuerySet[TrainingEvent]:
    return TrainingEvent.objects.filter(job__tenant=tenant, job_id=job_id)
