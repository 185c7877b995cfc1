from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from maas.erasure import eraser_register
        from maas.jobs import job_kind_register
        from training.erasure import tenant_training_erase
        from training.services import TRAINING

        job_kind_register(TRAINING)  # reaped by beat with every other kind (maas.tasks)
        eraser_register(20, tenant_training_erase)  # manage.py erase_tenant (maas/erasure.py)
