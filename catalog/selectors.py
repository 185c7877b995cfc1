"""Reads of the catalog; each takes the tenant it reads for."""

from functools import cache

from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import QuerySet

# Other apps read artifacts here: the bytes, once their sha256 matches (catalog.artifacts).
from catalog.artifacts import artifact_read as artifact_read
from catalog.models import Dataset, Model, ModelVersion
from maas.generation import GenerationCache
from maas.rowloader import RowLoader


def dataset_list(*, tenant) -> QuerySet[Dataset]:
    return Dataset.objects.filter(tenant=tenant)


def dataset_get(*, tenant, dataset_id: str) -> Dataset | None:
    return Dataset.objects.filter(tenant=tenant, pk=dataset_id).first()


def dataset_open(*, dataset: Dataset):
    """The stored file, opened for binary reading."""
    return default_storage.open(dataset.file, "rb")


def model_list(*, tenant) -> QuerySet[Model]:
    return Model.objects.filter(tenant=tenant)


def model_get(*, tenant, model_id: str) -> Model | None:
    return Model.objects.filter(tenant=tenant, pk=model_id).first()


def model_versions(*, tenant, model_id: str) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(model__tenant=tenant, model_id=model_id)


@cache
def _serving_lookup() -> tuple[str, RowLoader]:
    versions = RowLoader(ModelVersion, "v")
    qn = connection.ops.quote_name
    sql = (
        f"SELECT {versions.columns} FROM {qn(ModelVersion._meta.db_table)} v "  # noqa: S608
        f"JOIN {qn(Model._meta.db_table)} m ON m.{qn('id')} = v.{qn('model_id')} "
        f"WHERE m.{qn('id')} = %s AND m.{qn('tenant_id')} = %s "
        f"AND v.{qn('version')} = COALESCE(%s, m.{qn('latest_version')})"
    )
    return sql, versions


_serving_cache = GenerationCache()


def model_version_for_serving(
    *, tenant, model_id: str, version: int | None, generation: object = None
) -> ModelVersion | None:
    """The version to serve (the latest when `version` is None), or None. One hand-written
    query (see maas.rowloader); with the request's `generation` (maas.generation), none while
    no model or version changed anywhere since this process last read it."""
    key = (tenant.pk, model_id, version)
    if generation is not None:
        cached = _serving_cache.get(key, generation)
        if cached is not None:
            return cached
    sql, versions = _serving_lookup()
    with connection.cursor() as cursor:
        cursor.execute(sql, [model_id, tenant.pk, version])
        row = cursor.fetchone()
    if row is None:
        return None
    found = versions.build(row)
    if generation is not None:
        _serving_cache.put(key, found, generation)
    return found
