"""Batch inference: a model over a dataset, in chunks, on the `inference` queue.

Rows that cannot be predicted (a value of the wrong type, a missing column value that is not
allowed) go to the error file with their index and the reason, instead of failing the job.
Results are JSON Lines `{"row", "prediction", "probabilities"?}` in input order; the API also
serves them as CSV. Usage (compute seconds, rows read, predictions) is recorded once, in the
transaction that finishes the job, keyed by the job id.
"""

import io
import json
import logging
import math
import time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pandas as pd
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from billing.services import usage_record
from catalog.models import ModelVersion
from catalog.selectors import dataset_open
from inference.models import InferenceJob
from inference.runtime import runtime_for
from inference.validation import build_inputs

log = logging.getLogger("maas.inference")

CHUNK_ROWS = 10_000


class _Canceled(Exception):
    pass


def _cell(dtype: str, value: Any) -> Any:
    """A dataset value as the model takes it; raises ValueError with the reason."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if dtype == "number":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        number = float(value)  # raises ValueError for text
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return number
    if dtype == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"{value!r} is not true or false")
        return text == "true"
    return str(value)


def _read(dataset) -> pd.DataFrame:
    with dataset_open(dataset=dataset) as f:
        if dataset.format == "csv":
            return pd.read_csv(f, dtype=str, keep_default_na=False)
        return pd.read_json(f, lines=True, dtype=False)


def _claim(job_id: str) -> InferenceJob | None:
    with transaction.atomic():
        job = InferenceJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in InferenceJob.FINISHED:
            return None
        if job.status == InferenceJob.Status.CANCELLING:
            _finish(job, InferenceJob.Status.CANCELED, Decimal(0), 0)
            return None
        if job.attempts >= 2:  # the worker running it died twice: stop retrying
            job.error_code = "worker_lost"
            job.error_message = "The worker running this job stopped unexpectedly twice. Retry it."
            _finish(job, InferenceJob.Status.FAILED, Decimal(0), 0)
            return None
        job.attempts += 1
        job.status = InferenceJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["attempts", "status", "started_at"])
        return job


def _finish(job: InferenceJob, status: str, seconds: Decimal, rows_read: int) -> None:
    job.status = status
    job.finished_at = timezone.now()
    job.compute_seconds = seconds
    if status == InferenceJob.Status.SUCCEEDED:
        job.progress = 1.0
    job.save()
    dims = {"model": job.model_ref, "job": job.pk}
    if seconds:
        usage_record(
            tenant=job.tenant_id,
            meter="compute.cpu_seconds",
            quantity=seconds,
            idempotency_key=f"{job.pk}:compute",
            dimensions=dims,
        )
    if rows_read:
        usage_record(
            tenant=job.tenant_id,
            meter="data.processed_rows",
            quantity=rows_read,
            idempotency_key=f"{job.pk}:rows",
            dimensions=dims,
        )
    if job.completed and status == InferenceJob.Status.SUCCEEDED:
        version = ModelVersion.objects.filter(model_id=job.model_ref, version=job.version).first()
        usage_record(
            tenant=job.tenant_id,
            meter="predictions",
            quantity=job.completed,
            idempotency_key=f"{job.pk}:predictions",
            dimensions={**dims, "price_tier": version.price_tier if version else "standard"},
        )


def inference_job_run(*, job_id: str) -> None:
    job = _claim(job_id)
    if job is None:
        return
    started = time.monotonic()

    def seconds() -> Decimal:
        return Decimal(str(time.monotonic() - started)).quantize(Decimal("0.001"), ROUND_HALF_EVEN)

    rows_read = 0
    try:
        version = ModelVersion.objects.filter(model_id=job.model_ref, version=job.version).first()
        if version is None or job.dataset is None:
            raise ValueError("The model version or the dataset was deleted before the job ran.")
        runtime = runtime_for(version)
        frame = _read(job.dataset)
        rows_read = len(frame)
        missing = [i["name"] for i in runtime.inputs if i["name"] not in frame.columns]
        if missing:
            raise ValueError(f"The dataset has no column {missing[0]!r}, which the model takes.")
        InferenceJob.objects.filter(pk=job.pk).update(total=rows_read)
        results, errors = io.StringIO(), io.StringIO()
        completed = failed = 0
        for start in range(0, rows_read, CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            good_rows, good_index = [], []
            for offset, record in enumerate(
                chunk[[i["name"] for i in runtime.inputs]].itertuples(index=False)
            ):
                index = start + offset
                try:
                    good_rows.append(
                        [
                            _cell(spec["dtype"], value)
                            for spec, value in zip(runtime.inputs, record, strict=True)
                        ]
                    )
                    good_index.append(index)
                except (ValueError, TypeError) as exc:
                    errors.write(
                        json.dumps({"row": index, "error": _reason(runtime.inputs, record, exc)})
                        + "\n"
                    )
                    failed += 1
            if good_rows:
                feed, native_frame = build_inputs(
                    runtime.inputs, good_rows, as_frame=runtime.engine == "native"
                )
                predicted, proba = runtime.predict(feed, native_frame)
                for k, index in enumerate(good_index):
                    line: dict[str, Any] = {"row": index}
                    if runtime.classes is not None:
                        line["prediction"] = runtime.classes[int(predicted[k])]
                        line["probabilities"] = [float(p) for p in proba[k]]
                    else:
                        line["prediction"] = float(predicted[k])
                    results.write(json.dumps(line) + "\n")
                completed += len(good_rows)
            progress = min(start + CHUNK_ROWS, rows_read) / max(rows_read, 1)
            InferenceJob.objects.filter(pk=job.pk).update(
                progress=round(progress, 4), completed=completed, failed=failed
            )
            if InferenceJob.objects.filter(
                pk=job.pk, status=InferenceJob.Status.CANCELLING
            ).exists():
                raise _Canceled()
        folder = f"inference/{job.tenant_id}/{job.pk}"
        results_path = default_storage.save(
            f"{folder}/results.jsonl", ContentFile(results.getvalue().encode())
        )
        errors_path = default_storage.save(
            f"{folder}/errors.jsonl", ContentFile(errors.getvalue().encode())
        )
        with transaction.atomic():
            job = InferenceJob.objects.select_for_update().get(pk=job.pk)
            if job.status != InferenceJob.Status.RUNNING:
                raise _Canceled()
            job.results_path, job.errors_path = results_path, errors_path
            job.completed, job.failed = completed, failed
            _finish(job, InferenceJob.Status.SUCCEEDED, seconds(), rows_read)
    except _Canceled:
        with transaction.atomic():
            job.refresh_from_db()
            _finish(job, InferenceJob.Status.CANCELED, seconds(), rows_read)
    except ValueError as exc:
        _fail(job, "invalid_inference_input", str(exc), seconds(), rows_read)
    except Exception as exc:
        log.exception("inference job %s failed", job.pk)
        _fail(
            job,
            "inference_error",
            f"The job failed ({type(exc).__name__}); retry or contact support.",
            seconds(),
            rows_read,
        )


def _reason(inputs, record, exc: Exception) -> str:
    for spec, value in zip(inputs, record, strict=True):
        try:
            _cell(spec["dtype"], value)
        except (ValueError, TypeError) as problem:
            return f"{spec['name']}: {problem}"
    return str(exc)


def _fail(job: InferenceJob, code: str, message: str, seconds: Decimal, rows_read: int) -> None:
    with transaction.atomic():
        job.refresh_from_db()
        job.error_code, job.error_message = code, message
        _finish(job, InferenceJob.Status.FAILED, seconds, rows_read)
