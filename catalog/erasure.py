"""What maas.erasure removes of a tenant here: its models (versions, aliases and their moves)
and datasets, and their files (`datasets/<tenant>/` and `models/<tenant>/`)."""

from catalog.models import Dataset, Model, ModelVersion
from maas.erasure import Erased


def tenant_catalog_erase(tenant_id: str) -> Erased:
    versions = ModelVersion.objects.filter(model__tenant_id=tenant_id).count()
    models = Model.objects.filter(tenant_id=tenant_id)
    counted = models.count()
    models.delete()
    return Erased(
        counts={
            "models": counted,
            "model_versions": versions,
            "datasets": Dataset.objects.filter(tenant_id=tenant_id).delete()[0],
        },
        folders=[f"datasets/{tenant_id}", f"models/{tenant_id}"],
    )
