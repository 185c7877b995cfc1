"""A Celery worker whose jobs take seconds, so that a test can kill it mid-job: each progress
report of a job (maas.jobs.JobRun.progress) takes half a second more, and batch jobs read 50 rows
at a time. The patches are made before the pool forks, so every pool process has them.

    python -m tests.e2e.slow_worker -A maas worker ...   (celery's own arguments)
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
django.setup()

from celery.bin.celery import main as celery_main  # noqa: E402

from inference import batch  # noqa: E402
from maas.jobs import JobRun  # noqa: E402

progress = JobRun.progress


def slow_progress(self, fraction, **fields):
    progress(self, fraction, **fields)
    time.sleep(0.5)


JobRun.progress = slow_progress
batch.CHUNK_ROWS = 50

if __name__ == "__main__":
    sys.argv[0] = "celery"
    sys.exit(celery_main())
