"""Reads of batch inference jobs; each takes the tenant it reads for."""

from django.db.models import QuerySet

from inference.models import InferenceJob


def inference_job_list(*, tenant) -> QuerySet[InferenceJob]:
    return InferenceJob.objects.filter(tenant=tenant)
