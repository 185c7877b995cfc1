"""Training's Celery tasks: thin and idempotent (a finished job is left alone)."""

from celery import shared_task

from training import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_training_job(job_id: str) -> None:
    # acks_late + reject_on_worker_lost: if the process running it dies, the broker hands the
    # job to another worker; the attempt counter in the job row caps the retries.
    services.training_job_run(job_id=job_id)


@shared_task
def reap_stuck_training_jobs() -> int:
    return services.reap_stuck_jobs()
