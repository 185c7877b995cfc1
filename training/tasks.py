"""Training's Celery task: thin and idempotent (a finished job, or one a live worker holds, is
left alone)."""

from celery import shared_task

from training import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_training_job(job_id: str) -> None:
    # acks_late + reject_on_worker_lost: if the process running it dies, the broker hands the
    # job to another worker; maas.jobs' attempt count caps the retries, and its reaper queues
    # the job again when a whole worker died with its message.
    services.training_job_run(job_id=job_id)
