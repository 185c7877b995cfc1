"""What maas.erasure removes of a tenant here: its batch jobs, and their results and error
files (the `inference/<tenant>/` folder of the default storage)."""

from inference.models import InferenceJob
from maas.erasure import Erased


def tenant_inference_erase(tenant_id: str) -> Erased:
    jobs = InferenceJob.objects.filter(tenant_id=tenant_id).delete()[0]
    return Erased(counts={"inference_jobs": jobs}, folders=[f"inference/{tenant_id}"])
