"""Reads of the catalog; each takes the tenant it reads for."""

import base64
import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import QuerySet

# Other apps read artifacts here: the bytes, once their sha256 matches (catalog.artifacts).
from catalog.artifacts import artifact_read as artifact_read

# Other apps turn images into model inputs here, the one way (catalog.images).
from catalog.images import ImageError as ImageError
from catalog.images import archive_images
from catalog.images import decode_base64_image as decode_base64_image
from catalog.images import image_array as image_array
from catalog.models import Dataset, Model, ModelAlias, ModelAliasMove, ModelVersion
from maas.errors import InvalidRequest
from maas.generation import GenerationCache
from maas.rowloader import RowLoader

ALIAS_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")
LATEST = "latest"  # built in: the newest version; cannot be set


def dataset_list(*, tenant) -> QuerySet[Dataset]:
    return Dataset.objects.filter(tenant=tenant)


def dataset_get(*, tenant, dataset_id: str) -> Dataset | None:
    return Dataset.objects.filter(tenant=tenant, pk=dataset_id).first()


def dataset_open(*, dataset: Dataset):
    """The stored file, opened for binary reading."""
    return default_storage.open(dataset.file, "rb")


def dataset_images(*, dataset: Dataset) -> Iterator[tuple[str, str, Any]]:
    """(archive path, class label, decoded Pillow image or the ImageError saying why not) of
    an image dataset, in a fixed order (catalog.images.archive_images)."""
    with dataset_open(dataset=dataset) as f:
        yield from archive_images(f)


def model_list(*, tenant) -> QuerySet[Model]:
    return Model.objects.filter(tenant=tenant).prefetch_related("aliases")


def alias_name_checked(name: str) -> str:
    """An alias name a tenant may set, or 400 (param `alias`)."""
    if name == LATEST:
        raise InvalidRequest(
            "'latest' is built in (it always means the newest version) and cannot be set or "
            "removed; choose another name, such as 'production'.",
            param="alias",
        )
    if not ALIAS_NAME.match(name):
        raise InvalidRequest(
            f"{name[:40]!r} is not an alias name: 1 to 32 lowercase letters, digits, '_' or '-', "
            "starting with a letter.",
            param="alias",
        )
    return name


def model_aliases(*, model: Model) -> dict[str, int]:
    """{alias: version} of the model (prefetched by model_list)."""
    return {a.name: a.version for a in sorted(model.aliases.all(), key=lambda a: a.name)}


def model_alias_moves(*, model: Model) -> QuerySet[ModelAliasMove]:
    return ModelAliasMove.objects.filter(model=model).order_by("-created_at", "-id")


def model_get(*, tenant, model_id: str) -> Model | None:
    return Model.objects.filter(tenant=tenant, pk=model_id).first()


def model_versions(*, tenant, model_id: str) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(model__tenant=tenant, model_id=model_id)


@cache
def _serving_lookup(by_alias: bool) -> tuple[str, RowLoader]:
    """The query for a version by number (or the latest, with NULL), or by alias name."""
    versions = RowLoader(ModelVersion, "v")
    qn = connection.ops.quote_name
    sql = (
        f"SELECT {versions.columns} FROM {qn(ModelVersion._meta.db_table)} v "  # noqa: S608
        f"JOIN {qn(Model._meta.db_table)} m ON m.{qn('id')} = v.{qn('model_id')} "
    )
    if by_alias:
        sql += (
            f"JOIN {qn(ModelAlias._meta.db_table)} a ON a.{qn('model_id')} = m.{qn('id')} "
            f"AND a.{qn('version')} = v.{qn('version')} "
            f"WHERE m.{qn('id')} = %s AND m.{qn('tenant_id')} = %s AND a.{qn('name')} = %s"
        )
    else:
        sql += (
            f"WHERE m.{qn('id')} = %s AND m.{qn('tenant_id')} = %s "
            f"AND v.{qn('version')} = COALESCE(%s, m.{qn('latest_version')})"
        )
    return sql, versions


_serving_cache = GenerationCache()


def model_version_for_serving(
    *, tenant, model_id: str, version: int | str | None, generation: object = None
) -> ModelVersion | None:
    """The version to serve: by number, by alias name (a str), or the latest (None); or None.
    One hand-written query (see maas.rowloader); with the request's `generation`
    (maas.generation), none while no model, version or alias changed anywhere since this
    process last read it, so an alias moved in one process is followed by all on their next
    request."""
    key = (tenant.pk, model_id, version)
    if generation is not None:
        cached = _serving_cache.get(key, generation)
        if cached is not None:
            return cached
    sql, versions = _serving_lookup(isinstance(version, str))
    with connection.cursor() as cursor:
        cursor.execute(sql, [model_id, tenant.pk, version])
        row = cursor.fetchone()
    if row is None:
        return None
    found = versions.build(row)
    if generation is not None:
        _serving_cache.put(key, found, generation)
    return found


def dataset_head(*, dataset: Dataset, rows: int = 10) -> list[list[str]]:
    """The first rows of a table dataset as text, in its columns' order (the console's preview)."""
    names = [c["name"] for c in dataset.columns]
    out: list[list[str]] = []
    with dataset_open(dataset=dataset) as f:
        text = io.TextIOWrapper(f, encoding="utf-8", errors="replace", newline="")
        if dataset.format == Dataset.Format.CSV:
            reader = csv.reader(text)
            header = next(reader, [])
            where = {name: header.index(name) for name in names if name in header}
            for record in itertools.islice(reader, rows):
                cells = [
                    record[where[n]] if where.get(n, -1) in range(len(record)) else ""
                    for n in names
                ]
                out.append(cells)
        else:
            for line in itertools.islice((ln for ln in text if ln.strip()), rows):
                record = json.loads(line)
                out.append(["" if record.get(n) is None else str(record.get(n)) for n in names])
    return out


def dataset_thumbnails(
    *, dataset: Dataset, count: int = 12, size: int = 64
) -> list[tuple[str, str]]:
    """(class label, PNG data URI) of the first `count` decodable images of an image dataset."""
    thumbs: list[tuple[str, str]] = []
    for _, label, image in dataset_images(dataset=dataset):
        if isinstance(image, Exception):
            continue
        small = image.copy()
        small.thumbnail((size, size))
        buffer = io.BytesIO()
        small.save(buffer, format="PNG")
        thumbs.append(
            (label, "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
        )
        if len(thumbs) == count:
            break
    return thumbs
