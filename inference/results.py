"""Batch results: stored as arrays by the worker, rendered as JSON Lines or CSV on download.

Formatting 100,000 result rows as JSON takes longer on this machine than running a 100-tree
forest over them (benchmarks/serving.py), so the job stores what the model answered (row
indexes, predictions, probabilities and the class labels) in an `.npz` file and the download
formats it, 10,000 rows at a time, in whichever format was asked for. The file is read with
`allow_pickle=False`: arrays of numbers and bytes only.
"""

import csv
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

RENDER_ROWS = 10_000


def results_save(
    folder: str,
    rows: np.ndarray,
    predicted: np.ndarray,
    probabilities: np.ndarray | None,
    classes: list[Any] | None,
    sources: list[str] | None = None,
) -> str:
    """Stores one job's results; `predicted` holds class indexes for a classifier; `sources`:
    each row's archive path (image datasets)."""
    arrays = {"row": rows.astype(np.int64), "prediction": predicted}
    if classes is not None:
        arrays["probabilities"] = probabilities
        arrays["classes"] = np.frombuffer(orjson.dumps(classes), dtype=np.uint8)
    if sources is not None:
        arrays["sources"] = np.frombuffer(orjson.dumps(sources), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return default_storage.save(f"{folder}/results.npz", ContentFile(buffer.getvalue()))


RENDER_CHUNK_BYTES = 256 * 1024


def results_render(path: str, fmt: str) -> Iterator[bytes]:
    """The stored results as JSON Lines (`{"row", "prediction", "probabilities"?}`) or CSV
    (`row,prediction,p_<class>...`), in input order; an image dataset's rows also carry their
    archive path, `source` (JSON Lines) or a `source` column after `row` (CSV)."""
    # np.load reads the archive's members from the (seekable) file itself: a result in a remote
    # store spools to a temporary file past a few MiB, never whole into memory.
    with default_storage.open(path, "rb") as f:
        stored = np.load(f, allow_pickle=False)
        rows, predicted = stored["row"], stored["prediction"]
        classes = orjson.loads(stored["classes"].tobytes()) if "classes" in stored else None
        probabilities = stored["probabilities"] if classes is not None else None
        sources = orjson.loads(stored["sources"].tobytes()) if "sources" in stored else None
    if sources is not None:
        yield from _with_sources(rows, predicted, probabilities, classes, sources, fmt)
        return
    if fmt == "csv":
        header = ["row", "prediction", *[f"p_{c}" for c in classes or []]]
        yield _csv_lines([header])
    for lo in range(0, len(rows), RENDER_ROWS):
        part = slice(lo, lo + RENDER_ROWS)
        index = rows[part].tolist()
        if classes is None:
            answers = predicted[part].tolist()
            if fmt == "csv":
                yield _csv_lines(zip(index, answers, strict=True))
            else:
                yield _jsonl(
                    [{"row": r, "prediction": p} for r, p in zip(index, answers, strict=True)]
                )
            continue
        labels = [classes[i] for i in predicted[part].tolist()]
        proba = probabilities[part].tolist()
        if fmt == "csv":
            yield _csv_lines(
                [r, label, *p] for r, label, p in zip(index, labels, proba, strict=True)
            )
        else:
            yield _jsonl(
                [
                    {"row": r, "prediction": label, "probabilities": p}
                    for r, label, p in zip(index, labels, proba, strict=True)
                ]
            )


def _with_sources(rows, predicted, probabilities, classes, sources, fmt) -> Iterator[bytes]:
    """Image results (an image classifier's): a few thousand rows, formatted plainly."""
    if fmt == "csv":
        yield _csv_lines([["row", "source", "prediction", *[f"p_{c}" for c in classes]]])
    for lo in range(0, len(rows), RENDER_ROWS):
        part = slice(lo, lo + RENDER_ROWS)
        lines = zip(
            rows[part].tolist(),
            predicted[part].tolist(),
            probabilities[part].tolist(),
            strict=True,
        )
        if fmt == "csv":
            yield _csv_lines([r, sources[r], classes[k], *p] for r, k, p in lines)
        else:
            yield b"".join(
                orjson.dumps(
                    {"row": r, "source": sources[r], "prediction": classes[k], "probabilities": p}
                )
                + b"\n"
                for r, k, p in lines
            )


def _jsonl(lines: list[dict]) -> bytes:
    if not lines:
        return b""
    # One orjson call for the lot, then a newline between objects: inside a JSON string a quote
    # is always escaped, so `},{"row":` occurs only where one object ends and the next begins.
    return orjson.dumps(lines)[1:-1].replace(b'},{"row":', b'}\n{"row":') + b"\n"


def _csv_lines(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def errors_render(path: str, fmt: str) -> Iterator[bytes]:
    """The rows a job could not predict, as stored (JSON Lines `{"row", "error"}`) or as CSV
    (`row,error`)."""
    if fmt == "jsonl":
        with default_storage.open(path, "rb") as f:
            while chunk := f.read(RENDER_CHUNK_BYTES):
                yield chunk
        return
    with default_storage.open(path, "rb") as f:
        stored = f.read()
    lines = [orjson.loads(line) for line in stored.splitlines() if line.strip()]
    yield _csv_lines([["row", "error"], *([line["row"], line["error"]] for line in lines)])
