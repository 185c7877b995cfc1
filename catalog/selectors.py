"""Reads of the catalog; each takes the tenant it reads for."""

from django.db.models import QuerySet

from catalog.models import Dataset


def dataset_list(*, tenant) -> QuerySet[Dataset]:
    return Dataset.objects.filter(tenant=tenant)
