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
app.autodiscover_tasks()
