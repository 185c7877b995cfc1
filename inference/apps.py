from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    verbose_name = "Inference"

    def ready(self) -> None:
        from inference.erasure import tenant_inference_erase
        from inference.services import INFERENCE
        from maas.erasure import eraser_register
        from maas.jobs import job_kind_register

        job_kind_register(INFERENCE)  # reaped by beat with every other kind (maas.tasks)
        eraser_register(20, tenant_inference_erase)  # manage.py erase_tenant (maas/erasure.py)
