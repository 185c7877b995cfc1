"""Batch inference jobs: creating and cancelling (running is inference/batch.py)."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.spend import spend_require
from catalog.selectors import dataset_get, model_version_for_serving
from inference.models import InferenceJob
from maas.errors import Conflict, InvalidRequest, NotFound
from maas.jobs import require_job_slot
from maas.queues import Queue


def inference_job_create(*, tenant, data: dict[str, Any]) -> InferenceJob:
    model_id, dataset_id, version = data.get("model"), data.get("dataset"), data.get("version")
    if not isinstance(model_id, str) or not model_id:
        raise InvalidRequest(
            "model is required: the id of one of your models (mdl_...).", param="model"
        )
    if not isinstance(dataset_id, str) or not dataset_id:
        raise InvalidRequest(
            "dataset is required: the id of an uploaded dataset (ds_...).", param="dataset"
        )
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise InvalidRequest("version must be a version number (1, 2, ...).", param="version")
    model_version = model_version_for_serving(tenant=tenant, model_id=model_id, version=version)
    if model_version is None:
        raise NotFound(
            f"No such model or version: {model_id!r}.", param="version" if version else "model"
        )
    dataset = dataset_get(tenant=tenant, dataset_id=dataset_id)
    if dataset is None:
        raise NotFound(f"No such dataset: {dataset_id!r}.", param="dataset")
    columns = {c["name"] for c in dataset.columns}
    missing = [i["name"] for i in model_version.signature["inputs"] if i["name"] not in columns]
    if missing:
        raise InvalidRequest(
            f"The dataset has no column {missing[0]!r}, which the model takes.", param="dataset"
        )
    spend_require(tenant)
    with transaction.atomic():
        type(tenant).objects.select_for_update().filter(pk=tenant.pk).first()
        active = InferenceJob.objects.filter(tenant=tenant, status__in=InferenceJob.ACTIVE).count()
        require_job_slot(
            active=active, limit=tenant.limits.max_concurrent_jobs, kind="batch inference"
        )
        job = InferenceJob.objects.create(
            tenant=tenant,
            model_id=model_version.model_id,
            model_ref=model_version.model_id,
            version=model_version.version,
            dataset=dataset,
            dataset_ref=dataset.pk,
            total=dataset.n_rows,
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: str) -> None:
    from inference.tasks import run_inference_job

    run_inference_job.apply_async((job_id,), queue=Queue.INFERENCE.value)


def inference_job_cancel(*, job: InferenceJob) -> InferenceJob:
    with transaction.atomic():
        job = InferenceJob.objects.select_for_update().get(pk=job.pk)
        if job.status in InferenceJob.FINISHED:
            raise Conflict(
                f"Job {job.pk} already {job.status}; there is nothing to cancel.",
                code="job_finished",
            )
        if job.status == InferenceJob.Status.QUEUED:
            job.status, job.finished_at = InferenceJob.Status.CANCELED, timezone.now()
        elif job.status == InferenceJob.Status.RUNNING:
            job.status = InferenceJob.Status.CANCELLING
        job.save(update_fields=["status", "finished_at"])
    return job
