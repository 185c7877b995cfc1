from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from maas.jobs import job_kind_register
        from training.services import TRAINING

        job_kind_register(TRAINING)  # reaped by beat with every other kind (maas.tasks)
