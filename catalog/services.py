"""Writes of the catalog."""

import logging

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from billing.services import usage_record
from catalog.models import Dataset
from catalog.parsing import sniff_format, summarize
from maas.ids import new_id

log = logging.getLogger("maas.catalog")


def dataset_create(*, tenant, upload: UploadedFile, name: str, sha256: str) -> Dataset:
    """Checks and describes the table, stores it, and records `data.ingested_bytes`.
    Raises catalog.parsing.TableError for a file that is not a table we can read."""
    upload.seek(0)
    fmt = sniff_format(upload.read(1024), upload.name or "")
    upload.seek(0)
    summary = summarize(upload.file, fmt)
    upload.seek(0)
    dataset_id = new_id("ds")
    path = default_storage.save(f"datasets/{tenant.pk}/{dataset_id}.{fmt}", upload)
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                id=dataset_id,
                tenant=tenant,
                name=name,
                format=fmt,
                size_bytes=upload.size,
                sha256=sha256,
                n_rows=summary.n_rows,
                columns=summary.columns,
                file=path,
            )
            usage_record(
                tenant=tenant,
                meter="data.ingested_bytes",
                quantity=upload.size,
                idempotency_key=f"{dataset_id}:ingested_bytes",
            )
    except Exception:
        default_storage.delete(path)
        raise
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    """Removes the stored file and the dataset; models trained from it keep their versions."""
    path = dataset.file
    with transaction.atomic():
        dataset.delete()
        transaction.on_commit(lambda: default_storage.delete(path))
