"""What maas.erasure removes of a tenant here: its training jobs and their events (the
artifacts they wrote belong to catalog's model folders)."""

from maas.erasure import Erased
from training.models import TrainingEvent, TrainingJob


def tenant_training_erase(tenant_id: str) -> Erased:
    events = TrainingEvent.objects.filter(job__tenant_id=tenant_id).delete()[0]
    jobs = TrainingJob.objects.filter(tenant_id=tenant_id).delete()[0]
    return Erased(counts={"training_jobs": jobs, "training_events": events})
