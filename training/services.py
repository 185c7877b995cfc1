"""Training jobs: creating (everything checked before anything is queued), cancelling, running.
Their lifecycle (claim, heartbeat, cancel, retry, reap) is maas.jobs'; this module says what a
training run does and what a finished one records."""

import importlib
import re
from typing import Any

from django.conf import settings

from billing.services import job_usage_record
from catalog.selectors import dataset_get
from catalog.services import (
    ModelTaskMismatch,
    artifact_write,
    model_check_name,
    model_version_publish,
)
from maas.errors import InvalidRequest, NotFound
from maas.jobs import (
    Job,
    JobCanceled,
    JobFailed,
    JobKind,
    JobRun,
    JobStatus,
    job_cancel,
    job_create_checked,
    job_execute,
)
from maas.queues import Queue
from training.algorithms import IMAGE_ALGORITHMS, Algorithm, ParamError, get_algorithm
from training.models import TrainingEvent, TrainingJob
from training.outputs import TrainingJobOutput
from webhooks.services import event_record

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
MAX_CLASSES = 1000


# --- creating ----------------------------------------------------------------------------------


def _bad(param: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, param=param)


def _checked_columns(dataset, target: str, features: list[str] | None) -> list[str]:
    columns = {c["name"]: c for c in dataset.columns}
    if target not in columns:
        raise _bad("target", f"target must be a column of the dataset: {', '.join(columns)}.")
    if features is None:
        features = [c for c in columns if c != target]
    if not features:
        raise _bad("features", "features must be a non-empty list of column names.")
    for i, name in enumerate(features):
        if name not in columns:
            raise _bad(f"features[{i}]", f"{name!r} is not a column of the dataset.")
        if name == target:
            raise _bad(f"features[{i}]", "The target cannot also be a feature.")
    if len(set(features)) != len(features):
        raise _bad("features", "features lists a column twice.")
    return features


def _check_target_fits(algorithm: Algorithm, dataset, target: str) -> None:
    column = next(c for c in dataset.columns if c["name"] == target)
    if algorithm.task == "regression" and column["dtype"] != "number":
        raise _bad(
            "target",
            f"{algorithm.name} predicts numbers, but {target!r} holds {column['dtype']}s. "
            "Choose a numeric target or a classification algorithm.",
        )
    distinct = column.get("distinct")
    if algorithm.task == "classification" and distinct is not None:
        if distinct < 2:
            raise _bad("target", f"{target!r} has a single value; a classifier needs two or more.")
        if distinct > MAX_CLASSES:
            raise _bad(
                "target",
                f"{target!r} has more than {MAX_CLASSES} distinct values: it looks continuous. "
                "Choose a regression algorithm or a categorical target.",
            )


def _check_kind_fits(algorithm: Algorithm, dataset, target: str, features) -> None:
    """Image algorithms train on image datasets (their images, on their labels), the others
    on tables."""
    images = dataset.format == "images"
    if images and target != "label":
        raise _bad("target", "An image dataset's target is 'label' (its class folders).")
    if images and features not in (None, ["image"]):
        raise _bad("features", "An image dataset's one feature is 'image'; leave features out.")
    if images and algorithm.name not in IMAGE_ALGORITHMS:
        raise _bad(
            "algorithm",
            f"Dataset {dataset.pk} holds images; train {', '.join(sorted(IMAGE_ALGORITHMS))} "
            "on it (target 'label').",
        )
    if not images and algorithm.name in IMAGE_ALGORITHMS:
        raise _bad(
            "dataset",
            f"{algorithm.name} trains on image datasets (a ZIP of class folders); dataset "
            f"{dataset.pk} is a table.",
        )


def _queue_for(algorithm: Algorithm, dataset: Any, params: dict[str, Any]) -> str:
    """Keras jobs big enough to gain from a GPU go to GPU workers, when there are any; small
    networks train faster on CPUs (PERFORMANCE.md), so size decides, not the framework."""
    if algorithm.framework != "keras" or not settings.MAAS_GPU_WORKERS:
        return Queue.TRAINING.value
    if algorithm.name in IMAGE_ALGORITHMS:  # multiply-adds of the first block, per pixel
        width = params["image_size"] ** 2 * params["filters"]
    else:
        width = max(params["hidden_units"])
    work = dataset.n_rows * width * params["epochs"]
    return Queue.TRAINING_GPU.value if work >= settings.MAAS_GPU_MIN_WORK else Queue.TRAINING.value


def training_job_create(
    *,
    tenant,
    dataset: str,
    target: str,
    algorithm: str,
    features: list[str] | None = None,
    params: dict[str, Any] | None = None,
    model: str | None = None,
    validation_split: float = 0.2,
    cv_folds: int | None = None,
) -> TrainingJob:
    """A queued job, once everything it will need is checked: the algorithm and its parameters,
    the dataset and its columns, the target against the task, the model name. The arguments'
    types are the API's input serializer's to check."""
    try:
        spec = get_algorithm(algorithm)
        resolved = spec.resolve_params(params)
    except ParamError as exc:
        raise _bad(exc.param, str(exc)) from None
    found = dataset_get(tenant=tenant, dataset_id=dataset)
    if found is None:
        raise NotFound(f"No such dataset: {dataset!r}.", param="dataset")
    _check_kind_fits(spec, found, target, features)
    features = _checked_columns(found, target, features)
    if cv_folds is not None and found.n_rows < 2 * cv_folds:
        raise _bad(
            "cv_folds",
            f"The dataset has {found.n_rows} rows; {cv_folds} folds need at least "
            f"{2 * cv_folds}. Choose fewer folds.",
        )
    _check_target_fits(spec, found, target)
    if model is not None and not MODEL_NAME.match(model):
        raise _bad("model", "model must be 1 to 100 letters, digits, '_', '.' or '-'.")
    model_name = model or f"{found.name.rsplit('.', 1)[0]}-{target}"[:100]
    model_name = re.sub(r"[^A-Za-z0-9_.\-]", "-", model_name).strip("-.") or "model"
    try:
        model_check_name(tenant=tenant, name=model_name, task=spec.task)
    except ModelTaskMismatch as exc:
        raise _bad("model", str(exc)) from None
    return job_create_checked(
        TRAINING,
        tenant=tenant,
        dataset=found,
        dataset_ref=found.pk,
        algorithm=spec.name,
        queue=_queue_for(spec, found, resolved),
        params=resolved,
        target=target,
        features=features,
        validation_split=float(validation_split),
        cv_folds=cv_folds,
        model_name=model_name,
    )


def event(job: TrainingJob, message: str, level: str = "info", **data: Any) -> None:
    TrainingEvent.objects.create(
        job=job,
        message=message[:500],
        level=level,
        data={k: v for k, v in data.items() if _jsonable(v)},
    )


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _on_finish(job: Job, rows: int) -> None:
    """In the transaction that ends the job: its usage, once, and its event."""
    _record_usage(job, rows)
    event_record(
        tenant_id=job.tenant_id, type=f"training_job.{job.status}", obj=TrainingJobOutput(job).data
    )


def _record_usage(job: Job, rows: int) -> None:
    """A finished job's compute and rows read, once (keys derive from the job id)."""
    job.rows_processed = rows
    job.save(update_fields=["rows_processed"])
    dims = {"algorithm": job.algorithm, "job": job.pk}
    if job.model_id:
        dims["model"] = job.model_id
    job_usage_record(
        tenant_id=job.tenant_id,
        job_id=job.pk,
        dimensions=dims,
        seconds=job.compute_seconds,
        rows=rows,
        compute_meter="compute.gpu_seconds"
        if job.queue == Queue.TRAINING_GPU.value
        else "compute.cpu_seconds",
    )


# What a job of each framework imports on its way, imported before its compute is metered
# (once per worker process): ~4 s of CPU for scikit-learn's stack here, more for TensorFlow.
WARM_MODULES = {
    "sklearn": (
        "training.trainers",
        "sklearn.ensemble",
        "sklearn.linear_model",
        "sklearn.pipeline",
        "sklearn.metrics",
        "sklearn.inspection",
        "sklearn.model_selection",
        "training.evaluation",
        "skl2onnx",
        "skl2onnx.convert",
        "onnx",
        "onnxruntime",
        "skops.io",
    ),
    "keras": ("training.keras_trainer", "training.image_trainer", "keras", "tf2onnx", "PIL.Image"),
}


def _warm(job: Job) -> None:
    framework = get_algorithm(job.algorithm).framework
    modules = WARM_MODULES["sklearn"] + (WARM_MODULES["keras"] if framework == "keras" else ())
    for module in modules:
        importlib.import_module(module)


TRAINING = JobKind(
    model=TrainingJob,
    task="training.tasks.run_training_job",
    noun="training",
    error_code="training_error",
    on_finish=_on_finish,
    event=event,
    warm=_warm,
    wall_clock=lambda job: job.queue == Queue.TRAINING_GPU.value,
)


def training_job_cancel(*, job: TrainingJob) -> TrainingJob:
    """maas.jobs.job_cancel: canceled at once when queued or when no worker runs it, else asked
    to stop (it stops at its next check); a finished job is 409."""
    return job_cancel(TRAINING, job)


# --- running (in the worker) -------------------------------------------------------------------


def training_job_run(*, job_id: str) -> None:
    """The worker's whole job: claim, train, publish the version and record usage in one
    transaction. Safe to run twice: a finished job, or one a live worker holds, is left alone."""
    job_execute(TRAINING, job_id, _train)


def _train(run: JobRun) -> None:
    from training.data import TrainingDataError
    from training.trainers import Reporter, train

    job = run.job
    algorithm = get_algorithm(job.algorithm)

    def progress(fraction: float, message: str, **data: Any) -> None:
        run.progress(fraction)
        event(job, message, **data)

    if job.dataset is None:
        raise JobFailed(
            "invalid_training_data", "The dataset was deleted before the job could read it."
        )
    try:
        result = train(
            algorithm=algorithm,
            params=job.params,
            dataset=job.dataset,
            features=job.features,
            target=job.target,
            validation_split=job.validation_split,
            cv_folds=job.cv_folds,
            reporter=Reporter(progress=progress, check_cancel=run.check_cancel),
        )
    except TrainingDataError as exc:
        raise JobFailed("invalid_training_data", str(exc)) from None
    run.check_cancel()
    _publish(run, algorithm, result)


def _publish(run: JobRun, algorithm: Algorithm, result) -> None:
    folder = f"models/{run.job.tenant_id}/{run.job.pk}"
    native = artifact_write(f"{folder}/{result.native_name}", result.native)
    onnx = artifact_write(f"{folder}/model.onnx", result.onnx) if result.onnx else None
    with run.finishing() as job:
        if job.status != JobStatus.RUNNING:
            raise JobCanceled()
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
            evaluation=result.evaluation,
            explainer=result.explainer,
        )
        job.model_id = version.model_id
        job.model_version = version.version
        job.metrics = result.metrics
        run.rows = result.rows
        run.finish(job, JobStatus.SUCCEEDED)
