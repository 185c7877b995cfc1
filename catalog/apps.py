from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Datasets and models"

    def ready(self) -> None:
        from catalog.erasure import tenant_catalog_erase
        from catalog.models import Model, ModelAlias, ModelVersion
        from maas.erasure import eraser_register
        from maas.generation import bump_on_change

        # The predict path caches the version it serves (catalog.selectors), aliases resolved.
        bump_on_change(Model, ModelVersion, ModelAlias)
        eraser_register(30, tenant_catalog_erase)  # manage.py erase_tenant (maas/erasure.py)
