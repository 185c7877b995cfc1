"""Reads of the catalog; each takes the tenant it reads for."""

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from catalog.models import Dataset, Model, ModelVersion


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
