from celery import shared_task

from inference import batch


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_inference_job(job_id: str) -> None:
    batch.inference_job_run(job_id=job_id)
