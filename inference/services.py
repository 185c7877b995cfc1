"""Batch inference jobs: creating, cancelling, and what a finished one records. Running is
inference/batch.py; the lifecycle (claim, heartbeat, cancel, retry, reap) is maas.jobs'."""

import importlib

from billing.services import job_usage_record, usage_record
from catalog.selectors import dataset_get, model_version_for_serving
from inference.models import InferenceJob
from maas.errors import InvalidRequest, NotFound
from maas.jobs import Job, JobKind, JobStatus, job_cancel, job_create_checked
from maas.queues import Queue
from webhooks.services import event_record


def _record_usage(job: Job, rows: int) -> None:
    """A finished job's compute, rows read and (if it succeeded) predictions, each once: the
    keys derive from the job id."""
    dims = {"model": job.model_ref, "job": job.pk}
    job_usage_record(
        tenant_id=job.tenant_id,
        job_id=job.pk,
        dimensions=dims,
        seconds=job.compute_seconds,
        rows=rows,
    )
    if job.completed and job.status == JobStatus.SUCCEEDED:
        version = model_version_for_serving(
            tenant=job.tenant, model_id=job.model_ref, version=job.version
        )
        usage_record(
            tenant=job.tenant_id,
            meter="predictions",
            quantity=job.completed,
            idempotency_key=f"{job.pk}:predictions",
            dimensions={**dims, "price_tier": version.price_tier if version else "standard"},
        )


def _on_finish(job: Job, rows: int) -> None:
    """In the transaction that ends the job: its usage, once, and its event."""
    from inference.outputs import InferenceJobOutput

    _record_usage(job, rows)
    event_record(
        tenant_id=job.tenant_id,
        type=f"inference_job.{job.status}",
        obj=InferenceJobOutput(job).data,
    )


def _warm(job: Job) -> None:
    """What a batch job imports (the runtimes and the result writer), imported before its
    compute is metered, once per worker process."""
    for module in ("inference.batch", "onnxruntime", "skops.io"):
        importlib.import_module(module)


INFERENCE = JobKind(
    model=InferenceJob,
    task="inference.tasks.run_inference_job",
    noun="batch inference",
    error_code="inference_error",
    on_finish=_on_finish,
    warm=_warm,
)


def inference_job_create(
    *, tenant, model: str, dataset: str, version: int | str | None = None
) -> InferenceJob:
    """A queued job over the dataset, once the model version and the dataset's columns are
    checked. `version` is a number, an alias (resolved now: the job keeps the number it
    found, so moving the alias later does not change a job already queued) or None for the
    latest. The arguments' types are the API's input serializer's to check."""
    model_id, dataset_id = model, dataset
    model_version = model_version_for_serving(tenant=tenant, model_id=model_id, version=version)
    if model_version is None:
        raise NotFound(
            f"No such model or version: {model_id!r}.", param="version" if version else "model"
        )
    dataset = dataset_get(tenant=tenant, dataset_id=dataset_id)
    if dataset is None:
        raise NotFound(f"No such dataset: {dataset_id!r}.", param="dataset")
    takes_images = any(i["dtype"] == "image" for i in model_version.signature["inputs"])
    if takes_images != (dataset.format == "images"):
        raise InvalidRequest(
            f"Model {model_id} takes {'images' if takes_images else 'tables'}; dataset "
            f"{dataset_id} is {'an image archive' if dataset.format == 'images' else 'a table'}.",
            param="dataset",
        )
    columns = {c["name"] for c in dataset.columns}
    missing = [i["name"] for i in model_version.signature["inputs"] if i["name"] not in columns]
    if missing:
        raise InvalidRequest(
            f"The dataset has no column {missing[0]!r}, which the model takes.", param="dataset"
        )
    return job_create_checked(
        INFERENCE,
        tenant=tenant,
        queue=Queue.INFERENCE.value,
        model_id=model_version.model_id,
        model_ref=model_version.model_id,
        version=model_version.version,
        dataset=dataset,
        dataset_ref=dataset.pk,
        total=dataset.n_rows,
    )


def inference_job_cancel(*, job: InferenceJob) -> InferenceJob:
    """maas.jobs.job_cancel: canceled at once when queued or when no worker runs it, else asked
    to stop (it stops after its current chunk); a finished job is 409."""
    return job_cancel(INFERENCE, job)
