"""Batch inference: a model over a dataset, in chunks, on the `inference` queue.

Rows that cannot be predicted (a value of the wrong type, a missing column value that is not
allowed) go to the error file with their index and the reason, instead of failing the job.
Results are stored as arrays (inference/results.py) and served as JSON Lines
`{"row", "prediction", "probabilities"?}` or CSV, in input order. Usage (compute seconds, rows
read, predictions) is recorded once, in the transaction that finishes the job, keyed by the
job id (inference.services). The job's lifecycle is maas.jobs'.
"""

import io
import json
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import orjson
import pandas as pd
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from catalog.selectors import dataset_open, model_version_for_serving
from inference.results import results_save
from inference.runtime import runtime_for
from inference.services import INFERENCE
from maas.jobs import JobCanceled, JobFailed, JobRun, JobStatus, job_execute

CHUNK_ROWS = 10_000


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


def _chunks(dataset, names: list[str], text_names: list[str]) -> Iterator[pd.DataFrame]:
    """The dataset's model columns, CHUNK_ROWS rows at a time. CSV numbers are parsed by
    pandas' C parser (correctly rounded, as the predict path's JSON parser does); only empty
    cells are missing values; text and boolean features stay text for _cell to read."""
    with dataset_open(dataset=dataset) as f:
        if dataset.format == "csv":
            reader = pd.read_csv(
                f,
                usecols=names,
                dtype=dict.fromkeys(text_names, str),
                keep_default_na=False,
                na_values=[""],
                chunksize=CHUNK_ROWS,
            )
        else:
            reader = pd.read_json(f, lines=True, dtype=False, chunksize=CHUNK_ROWS)
        with reader:
            yield from reader


def _column(dtype: str, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(the column as the model takes it, which rows are bad). Columns parsed as numbers go
    through numpy whole; anything else value by value through _cell."""
    if dtype == "number" and series.dtype.kind in "fiu":
        values = series.to_numpy(dtype=np.float64)
        return values.astype(np.float32), np.isinf(values)
    cells, bad = [], np.zeros(len(series), dtype=bool)
    for i, value in enumerate(series.tolist()):
        try:
            cells.append(_cell(dtype, value))
        except (ValueError, TypeError):
            cells.append(None)
            bad[i] = True
    if dtype == "string":
        return np.array(["" if v is None else v for v in cells], dtype=object), bad
    return np.array([np.nan if v is None else float(v) for v in cells], dtype=np.float32), bad


def _feed(runtime, columns: list[np.ndarray], good: np.ndarray):
    """(the model's feed for the good rows, and a DataFrame of it for a native model)."""
    if runtime.matrix_input is not None:
        return {runtime.matrix_input: np.column_stack(columns)[good]}, None
    feed = {
        spec["onnx_input"]: column[good].reshape(-1, 1)
        for spec, column in zip(runtime.inputs, columns, strict=True)
    }
    if runtime.engine != "native":
        return feed, None
    return feed, pd.DataFrame({name: values.reshape(-1) for name, values in feed.items()})


def inference_job_run(*, job_id: str) -> None:
    """The worker's whole job (maas.jobs.job_execute): claim, predict chunk by chunk, store the
    results and record usage in the transaction that finishes it."""
    job_execute(INFERENCE, job_id, _predict_all)


def _predict_all(run: JobRun) -> None:
    job = run.job
    version = model_version_for_serving(
        tenant=job.tenant, model_id=job.model_ref, version=job.version
    )
    if version is None or job.dataset is None:
        raise JobFailed(
            "invalid_inference_input",
            "The model version or the dataset was deleted before the job ran.",
        )
    runtime = runtime_for(version)
    names = [spec["name"] for spec in runtime.inputs]
    present = {column["name"] for column in job.dataset.columns}
    missing = [name for name in names if name not in present]
    if missing:
        raise JobFailed(
            "invalid_inference_input",
            f"The dataset has no column {missing[0]!r}, which the model takes.",
        )
    n_rows = job.dataset.n_rows
    run.progress(0.0, total=n_rows)
    if job.dataset.format == "images":
        _predict_images(run, runtime)
        return
    errors = io.StringIO()
    answers: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
    failed = 0
    pending = None
    # The model runs on the previous chunk in a second thread (ONNX Runtime releases the GIL)
    # while this one parses and checks the next: two cores, as the worker has.
    with ThreadPoolExecutor(max_workers=1) as model_thread:
        text_names = [spec["name"] for spec in runtime.inputs if spec["dtype"] != "number"]
        for chunk in _chunks(job.dataset, names, text_names):
            columns, bad = [], np.zeros(len(chunk), dtype=bool)
            for spec in runtime.inputs:
                values, wrong = _column(spec["dtype"], chunk[spec["name"]])
                columns.append(values)
                bad |= wrong
            index = np.arange(run.rows, run.rows + len(chunk))
            for offset in np.flatnonzero(bad):
                record = chunk[names].iloc[offset].tolist()
                reason = _reason(runtime.inputs, record, ValueError("unreadable value"))
                errors.write(json.dumps({"row": int(index[offset]), "error": reason}) + "\n")
            failed += int(bad.sum())
            run.rows += len(chunk)
            if pending is not None:
                answers.append(_collect(*pending))
                pending = None
            good = ~bad
            if good.any():
                feed, frame = _feed(runtime, columns, good)
                pending = (model_thread.submit(runtime.predict, feed, frame), index[good])
            completed = sum(len(a[0]) for a in answers)
            progress = run.rows / max(n_rows, run.rows, 1)
            run.progress(progress, completed=completed, failed=failed)
            run.check_cancel()
        if pending is not None:
            answers.append(_collect(*pending))
    _finish(run, runtime, answers, errors.getvalue(), failed)


IMAGE_CHUNK = 256  # images decoded, then predicted, at a time


def _predict_images(run: JobRun, runtime) -> None:
    """An image dataset: one result per image, in archive order, with its path as `source`.
    Images are decoded and resized exactly as predict does (inference.validation)."""
    from catalog.selectors import dataset_images, image_array

    spec = runtime.inputs[0]
    size, channels = spec["size"], spec["channels"]
    answers, sources, batch, index = [], [], [], []
    errors: list[bytes] = []
    n_rows = run.job.dataset.n_rows

    def flush() -> None:
        feed = {spec["onnx_input"]: np.stack(batch)}
        predicted, probabilities = runtime.predict(feed, None)
        answers.append((np.array(index), predicted, probabilities))
        batch.clear()
        index.clear()
        run.progress(
            run.rows / max(n_rows, 1), completed=run.rows - len(errors), failed=len(errors)
        )
        run.check_cancel()

    for name, _label, image in dataset_images(dataset=run.job.dataset):
        sources.append(name)
        if isinstance(image, Exception):  # that image is an error row; the rest go on
            errors.append(orjson.dumps({"row": run.rows, "source": name, "error": str(image)}))
        else:
            batch.append(image_array(image, size, channels))
            index.append(run.rows)
        run.rows += 1
        if len(batch) == IMAGE_CHUNK:
            flush()
    if batch:
        flush()
    lines = b"".join(e + b"\n" for e in errors).decode()
    _finish(run, runtime, answers, lines, len(errors), sources=sources)


def _finish(run: JobRun, runtime, answers, errors: str, failed: int, sources=None) -> None:
    """Stores the results and the errors, and finishes the job with its counts."""
    job = run.job
    completed = sum(len(a[0]) for a in answers)
    folder = f"inference/{job.tenant_id}/{job.pk}"
    results_path = results_save(
        folder,
        np.concatenate([a[0] for a in answers]) if answers else np.zeros(0, np.int64),
        np.concatenate([a[1] for a in answers]) if answers else np.zeros(0),
        np.concatenate([a[2] for a in answers]) if answers and runtime.classes else None,
        runtime.classes,
        sources=sources,
    )
    errors_path = default_storage.save(f"{folder}/errors.jsonl", ContentFile(errors.encode()))
    with run.finishing() as job:
        if job.status != JobStatus.RUNNING:
            raise JobCanceled()
        job.results_path, job.errors_path = results_path, errors_path
        job.completed, job.failed = completed, failed
        run.finish(job, JobStatus.SUCCEEDED)


def _collect(future, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    predicted, probabilities = future.result()
    return index, predicted, probabilities


def _reason(inputs, record, exc: Exception) -> str:
    for spec, value in zip(inputs, record, strict=True):
        try:
            _cell(spec["dtype"], value)
        except (ValueError, TypeError) as problem:
            return f"{spec['name']}: {problem}"
    return str(exc)
