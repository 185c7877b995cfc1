"""The Celery app. Settings come from Django settings (CELERY_* names)."""

import os

from celery import Celery
from kombu import Queue as KombuQueue

from maas.queues import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")

app = Celery("maas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [KombuQueue(q.value, routing_key=q.value) for q in Queue]
app.conf.task_default_queue = Queue.DEFAULT.value
# Each app's tasks go to its queue; a task can still be sent elsewhere with apply_async(queue=)
# (Keras training to training_gpu).
app.conf.task_routes = {
    "billing.tasks.*": {"queue": Queue.BILLING.value},
    "training.tasks.*": {"queue": Queue.TRAINING.value},
    "inference.tasks.*": {"queue": Queue.INFERENCE.value},
    "webhooks.tasks.*": {"queue": Queue.WEBHOOKS.value},
}
app.autodiscover_tasks()
