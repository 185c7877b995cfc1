"""Training jobs: creating (everything checked before anything is queued), cancelling, running."""

import logging
import re
import time
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.services import job_usage_record
from billing.spend import spend_require
from catalog.artifacts import artifact_write
from catalog.models import Dataset
from catalog.selectors import dataset_get
from catalog.services import ModelTaskMismatch, model_check_name, model_version_publish
from maas.errors import Conflict, InvalidRequest, NotFound
from maas.jobs import require_job_slot
from maas.queues import Queue
from training.algorithms import Algorithm, ParamError, get_algorithm
from training.models import TrainingEvent, TrainingJob

log = logging.getLogger("maas.training")

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
MAX_CLASSES = 1000


# --- creating ----------------------------------------------------------------------------------


def _bad(param: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, param=param)


def _validate(tenant, data: dict[str, Any]) -> tuple[Algorithm, Dataset, dict[str, Any]]:
    try:
        algorithm = get_algorithm(data.get("algorithm"))
        params = algorithm.resolve_params(data.get("params"))
    except ParamError as exc:
        raise _bad(exc.param, str(exc)) from None
    dataset_id = data.get("dataset")
    if not isinstance(dataset_id, str) or not dataset_id:
        raise _bad("dataset", "dataset is required: the id of an uploaded dataset (ds_...).")
    dataset = dataset_get(tenant=tenant, dataset_id=dataset_id)
    if dataset is None:
        raise NotFound(f"No such dataset: {dataset_id!r}.", param="dataset")
    columns = {c["name"]: c for c in dataset.columns}
    target = data.get("target")
    if not isinstance(target, str) or target not in columns:
        raise _bad("target", f"target must be a column of the dataset: {', '.join(columns)}.")
    features = data.get("features")
    if features is None:
        features = [c for c in columns if c != target]
    if not isinstance(features, list) or not features:
        raise _bad("features", "features must be a non-empty list of column names.")
    for i, name in enumerate(features):
        if name not in columns:
            raise _bad(f"features[{i}]", f"{name!r} is not a column of the dataset.")
        if name == target:
            raise _bad(f"features[{i}]", "The target cannot also be a feature.")
    if len(set(features)) != len(features):
        raise _bad("features", "features lists a column twice.")
    target_column = columns[target]
    if algorithm.task == "regression" and target_column["dtype"] != "number":
        raise _bad(
            "target",
            f"{algorithm.name} predicts numbers, but {target!r} holds {target_column['dtype']}s. "
            "Choose a numeric target or a classification algorithm.",
        )
    distinct = target_column.get("distinct")
    if algorithm.task == "classification" and distinct is not None:
        if distinct < 2:
            raise _bad("target", f"{target!r} has a single value; a classifier needs two or more.")
        if distinct > MAX_CLASSES:
            raise _bad(
                "target",
                f"{target!r} has more than {MAX_CLASSES} distinct values: it looks continuous. "
                "Choose a regression algorithm or a categorical target.",
            )
    split = data.get("validation_split", 0.2)
    if isinstance(split, bool) or not isinstance(split, int | float) or not 0.05 <= split <= 0.5:
        raise _bad("validation_split", "validation_split must be a number from 0.05 to 0.5.")
    model_name = data.get("model") or f"{dataset.name.rsplit('.', 1)[0]}-{target}"[:100]
    model_name = re.sub(r"[^A-Za-z0-9_.\-]", "-", model_name).strip("-.") or "model"
    if data.get("model") is not None and not MODEL_NAME.match(str(data["model"])):
        raise _bad("model", "model must be 1 to 100 letters, digits, '_', '.' or '-'.")
    try:
        model_check_name(tenant=tenant, name=model_name, task=algorithm.task)
    except ModelTaskMismatch as exc:
        raise _bad("model", str(exc)) from None
    return (
        algorithm,
        dataset,
        {
            "params": params,
            "target": target,
            "features": features,
            "validation_split": float(split),
            "model_name": model_name,
        },
    )


def _queue_for(algorithm: Algorithm, dataset: Dataset, params: dict[str, Any]) -> str:
    """Keras jobs big enough to gain from a GPU go to GPU workers, when there are any; small
    networks train faster on CPUs (PERFORMANCE.md), so size decides, not the framework."""
    if algorithm.framework != "keras" or not settings.MAAS_GPU_WORKERS:
        return Queue.TRAINING.value
    work = dataset.n_rows * max(params["hidden_units"]) * params["epochs"]
    return Queue.TRAINING_GPU.value if work >= settings.MAAS_GPU_MIN_WORK else Queue.TRAINING.value


def training_job_create(*, tenant, data: dict[str, Any]) -> TrainingJob:
    algorithm, dataset, fields = _validate(tenant, data)
    spend_require(tenant)
    with transaction.atomic():
        # Lock the tenant's row so two concurrent creates cannot both pass the limit.
        type(tenant).objects.select_for_update().filter(pk=tenant.pk).first()
        active = TrainingJob.objects.filter(tenant=tenant, status__in=TrainingJob.ACTIVE).count()
        require_job_slot(active=active, limit=tenant.limits.max_concurrent_jobs, kind="training")
        job = TrainingJob.objects.create(
            tenant=tenant,
            dataset=dataset,
            dataset_ref=dataset.pk,
            algorithm=algorithm.name,
            queue=_queue_for(algorithm, dataset, fields["params"]),
            **fields,
        )
        event(job, "queued", queue=job.queue)
        transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: TrainingJob) -> None:
    from training.tasks import run_training_job

    run_training_job.apply_async((job.pk,), queue=job.queue)


def event(job: TrainingJob, message: str, level: str = "info", **data: Any) -> None:
    TrainingEvent.objects.create(job=job, message=message[:500], level=level, data=data)


# --- cancelling --------------------------------------------------------------------------------


def training_job_cancel(*, job: TrainingJob) -> TrainingJob:
    """A queued job is canceled at once (it will never start); a running one is asked to stop
    and stops at its next check; a finished one is 409."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job.pk)
        if job.status in TrainingJob.FINISHED:
            raise Conflict(
                f"Job {job.pk} already {job.status}; there is nothing to cancel.",
                code="job_finished",
            )
        if job.status == TrainingJob.Status.QUEUED:
            job.status = TrainingJob.Status.CANCELED
            job.finished_at = timezone.now()
            event(job, "canceled before it started")
        elif job.status == TrainingJob.Status.RUNNING:
            job.status = TrainingJob.Status.CANCELLING
            event(job, "cancellation requested")
        job.save(update_fields=["status", "finished_at"])
    return job


# --- running (in the worker) -------------------------------------------------------------------


class _Runner:
    def __init__(self, job: TrainingJob):
        self.job = job
        self.started = time.monotonic()

    def progress(self, fraction: float, message: str, **data: Any) -> None:
        now = timezone.now()
        TrainingJob.objects.filter(pk=self.job.pk).update(
            progress=round(min(max(fraction, 0.0), 1.0), 4), heartbeat_at=now
        )
        event(self.job, message, **{k: v for k, v in data.items() if _jsonable(v)})

    def check_cancel(self) -> None:
        from training.trainers import Canceled

        status = TrainingJob.objects.filter(pk=self.job.pk).values_list("status", flat=True).first()
        if status in (TrainingJob.Status.CANCELLING, TrainingJob.Status.CANCELED, None):
            raise Canceled()

    def seconds(self) -> Decimal:
        elapsed = Decimal(str(time.monotonic() - self.started))
        return elapsed.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _claim(job_id: str) -> TrainingJob | None:
    """Takes the job for this attempt; None when there is nothing (more) to do."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in TrainingJob.FINISHED:
            return None
        if job.status == TrainingJob.Status.CANCELLING:
            _finish(job, TrainingJob.Status.CANCELED, seconds=Decimal(0), rows=0)
            return None
        if job.attempts >= settings.MAAS_TRAINING_MAX_ATTEMPTS:
            # The worker running it died this many times: give up instead of looping.
            job.error_code = "worker_lost"
            job.error_message = (
                f"The worker running this job stopped unexpectedly {job.attempts} times. "
                "Retry the job; if it keeps failing, try a smaller model or dataset."
            )
            _finish(job, TrainingJob.Status.FAILED, seconds=Decimal(0), rows=0)
            return None
        if job.status == TrainingJob.Status.RUNNING:
            event(job, "the previous worker stopped unexpectedly; retrying", level="warning")
        job.attempts += 1
        job.status = TrainingJob.Status.RUNNING
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["attempts", "status", "started_at", "heartbeat_at"])
        event(job, "started", attempt=job.attempts)
        return job


def _finish(job: TrainingJob, status: str, *, seconds: Decimal, rows: int) -> None:
    """Marks the job finished and records its usage, once (keys derive from the job id). Call
    inside a transaction."""
    job.status = status
    job.finished_at = timezone.now()
    job.compute_seconds = seconds
    job.rows_processed = rows
    if status == TrainingJob.Status.SUCCEEDED:
        job.progress = 1.0
    job.save()
    dims = {"algorithm": job.algorithm, "job": job.pk}
    if job.model_id:
        dims["model"] = job.model_id
    job_usage_record(
        tenant_id=job.tenant_id,
        job_id=job.pk,
        dimensions=dims,
        seconds=seconds,
        rows=rows,
        compute_meter="compute.gpu_seconds"
        if job.queue == Queue.TRAINING_GPU.value
        else "compute.cpu_seconds",
    )
    event(job, status, compute_seconds=float(seconds), rows_processed=rows)


def training_job_run(*, job_id: str) -> None:
    """The worker's whole job: claim, train, publish the version and record usage in one
    transaction. Safe to run twice: a finished job is left alone."""
    from training.data import TrainingDataError
    from training.trainers import Canceled, Reporter, train

    job = _claim(job_id)
    if job is None:
        return
    runner = _Runner(job)
    algorithm = get_algorithm(job.algorithm)
    try:
        if job.dataset is None:
            raise TrainingDataError("The dataset was deleted before the job could read it.")
        _fault_first_attempt(job)
        result = train(
            algorithm=algorithm,
            params=job.params,
            dataset=job.dataset,
            features=job.features,
            target=job.target,
            validation_split=job.validation_split,
            reporter=Reporter(progress=runner.progress, check_cancel=runner.check_cancel),
        )
        runner.check_cancel()
        _publish(job, algorithm, result, runner)
    except Canceled:
        with transaction.atomic():
            job.refresh_from_db()
            _finish(job, TrainingJob.Status.CANCELED, seconds=runner.seconds(), rows=0)
    except TrainingDataError as exc:
        _fail(job, runner, "invalid_training_data", str(exc))
    except Exception as exc:
        log.exception("training job %s failed", job.pk)
        _fail(
            job,
            runner,
            "training_error",
            f"Training failed ({type(exc).__name__}). The team has the details; retry or "
            "contact support quoting the job id.",
        )


def _fail(job: TrainingJob, runner: _Runner, code: str, message: str) -> None:
    with transaction.atomic():
        job.refresh_from_db()
        job.error_code, job.error_message = code, message
        _finish(job, TrainingJob.Status.FAILED, seconds=runner.seconds(), rows=0)


def _publish(job: TrainingJob, algorithm: Algorithm, result, runner: _Runner) -> None:
    folder = f"models/{job.tenant_id}/{job.pk}"
    native = artifact_write(f"{folder}/{result.native_name}", result.native)
    onnx = artifact_write(f"{folder}/model.onnx", result.onnx) if result.onnx else None
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job.pk)
        if job.status != TrainingJob.Status.RUNNING:
            from training.trainers import Canceled

            raise Canceled()
        version = model_version_publish(
            tenant=job.tenant,
            model_name=job.model_name,
            task=algorithm.task,
            algorithm=algorithm.name,
            framework=algorithm.framework,
            price_tier=algorithm.price_tier,
            params=job.params,
            metrics=result.metrics,
            signature=result.signature,
            training_job=job.pk,
            native=native,
            onnx=onnx,
            onnx_parity=result.parity,
        )
        job.model_id = version.model_id
        job.model_version = version.version
        job.metrics = result.metrics
        _finish(job, TrainingJob.Status.SUCCEEDED, seconds=runner.seconds(), rows=result.rows)


def _fault_first_attempt(job: TrainingJob) -> None:
    # Fault injection for the worker-crash test: the first attempt's process dies here, as a
    # SIGKILL would leave it (tests/e2e/test_training_worker.py).
    import os

    if os.environ.get("MAAS_FAULT_INJECT") == "training_first_attempt" and job.attempts == 1:
        os._exit(137)


def reap_stuck_jobs(*, now=None) -> int:
    """Fails running jobs whose worker has not reported for MAAS_TRAINING_STUCK_SECONDS."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.MAAS_TRAINING_STUCK_SECONDS)
    reaped = 0
    for job in TrainingJob.objects.filter(
        status__in=[TrainingJob.Status.RUNNING, TrainingJob.Status.CANCELLING],
        heartbeat_at__lt=stale,
    ):
        with transaction.atomic():
            job = TrainingJob.objects.select_for_update().get(pk=job.pk)
            if job.status not in (TrainingJob.Status.RUNNING, TrainingJob.Status.CANCELLING):
                continue
            if job.status == TrainingJob.Status.CANCELLING:
                _finish(job, TrainingJob.Status.CANCELED, seconds=Decimal(0), rows=0)
            else:
                job.error_code = "timed_out"
                job.error_message = (
                    "The job stopped reporting progress and was stopped. Retry it; a smaller "
                    "dataset or fewer estimators/epochs finish sooner."
                )
                _finish(job, TrainingJob.Status.FAILED, seconds=Decimal(0), rows=0)
            reaped += 1
    return reaped
