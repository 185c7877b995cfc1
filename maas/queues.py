"""The Celery queues. Workers scale per queue; tasks name theirs through this enum."""

from enum import StrEnum


class Queue(StrEnum):
    DEFAULT = "default"
    TRAINING = "training"
    TRAINING_GPU = "training_gpu"  # consumed only by workers on GPU hosts
    INFERENCE = "inference"
    BILLING = "billing"
    WEBHOOKS = "webhooks"  # deliveries: slow receivers never hold up jobs or billing


# What a worker with no -Q consumes: everything but the GPU queue, which needs a GPU host.
CPU_QUEUES = [q.value for q in Queue if q is not Queue.TRAINING_GPU]
